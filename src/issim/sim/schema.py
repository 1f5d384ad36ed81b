"""The declared state: who owns each key of :class:`~issim.sim.state.State`, its shape and type.

Every subsystem says, in :meth:`~issim.sim.subsystem.Subsystem.schema` (written next to
its ``reset``), what it creates and what of the others' it uses:

- ``owns``: a :class:`Key` for each array (and fact) its ``reset`` creates. Only the
  owner changes a key; anyone else asks it to, by an event it handles or a command;
- ``reads``: keys of other owners it reads;
- ``writes``: keys of other owners it changes in place, declared one by one. These are
  physical exchanges, not shortcuts: the crew breathe the cabin's air and drink the
  station's water, life support adds O2 to the air, a burn replaces the orbit;
- ``dims``: the sizes of the dimensions its keys are shaped by (``people``, ``machines``).

A key's shape is symbolic in the run's dimensions (``("volumes", "gases")``, ``(1,)``);
:func:`run_dims` collects them (the world gives ``volumes``, ``links`` and
``segments``; a dimension two subsystems both give must agree). :func:`check_schema`
verifies, after reset, that every array and fact in the state is declared by exactly one
owner, with the declared dtype and resolved shape, and that everything read or written
is owned by someone. :class:`WriteGuard` watches a running simulation and reports any
change to a key by a subsystem that neither owns it nor declared the write.

The engine itself owns ``orbit.version`` and the fact ``orbit.omm`` (:func:`engine_schema`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

import numpy as np

from .memo import Memo

Dim = Union[str, int]
ENGINE = "engine"
COMMANDS = "control"  # the command pipeline is the control subsystem's path


class SchemaError(RuntimeError):
    """The state does not match its declaration (a bug in a subsystem, not an input error)."""


@dataclass(frozen=True)
class Key:
    """One named part of the state.

    ``shape`` is symbolic (dimension names or fixed sizes); ``dtype`` a numpy dtype name
    for an array, or the Python type name of a fact (``kind="fact"``, shape ``()``).
    """

    name: str
    shape: tuple[Dim, ...]
    dtype: str
    unit: str = "1"
    doc: str = ""
    kind: str = "array"


def fact(name: str, dtype: str, doc: str = "") -> Key:
    """A fact (``state.facts[name]``): a small immutable value replaced by events."""
    return Key(name, (), dtype, "", doc, kind="fact")


@dataclass(frozen=True)
class Schema:
    """What one subsystem owns, reads of the others', and changes of the others' (see the module)."""

    owns: tuple[Key, ...] = ()
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    dims: Mapping[str, int] = field(default_factory=dict)


def engine_schema(sim) -> Schema:
    """What the engine itself owns: the orbit's version counter and element set."""
    world = sim.world
    dims = {"volumes": len(world.volumes), "links": len(world.links), "segments": 2}
    return Schema(
        owns=(
            Key("orbit.version", (1,), "int64", "1", "bumped when a burn replaces the orbit (the environment recomputes)"),
            fact("orbit.omm", "dict", "the orbit's element set as OMM fields (absent in a run without orbit)"),
        ),
        dims=dims,
    )


def schemas(sim) -> dict[str, Schema]:
    """``{owner: schema}``: the engine's, then each subsystem's in run order."""
    out = {ENGINE: engine_schema(sim)}
    for sub in sim.subsystems:
        out[sub.name] = sub.schema()
    return out


def run_dims(sim, declared: Optional[Mapping[str, Schema]] = None) -> dict[str, int]:
    """The sizes of the run's dimensions; a dimension given differently by two owners is an error."""
    declared = schemas(sim) if declared is None else declared
    dims: dict[str, int] = {}
    given: dict[str, str] = {}
    for owner, schema in declared.items():
        for name, size in schema.dims.items():
            if name in dims and dims[name] != int(size):
                raise SchemaError(f"dimension {name!r} is {dims[name]} for {given[name]} but {size} for {owner}")
            dims[name], given[name] = int(size), owner
    return dims


def resolve(shape: tuple[Dim, ...], dims: Mapping[str, int]) -> tuple[int, ...]:
    """A symbolic shape in numbers (``KeyError`` for an unknown dimension)."""
    return tuple(d if isinstance(d, int) else dims[d] for d in shape)


def owners(declared: Mapping[str, Schema]) -> dict[str, list[str]]:
    """``{key: [owners]}`` (one owner each, when all is well)."""
    out: dict[str, list[str]] = {}
    for owner, schema in declared.items():
        for key in schema.owns:
            out.setdefault(key.name, []).append(owner)
    return out


def schema_problems(sim) -> list[str]:
    """Everything in ``sim.state`` that does not match the declarations, one line each."""
    declared = schemas(sim)
    problems: list[str] = []
    try:
        dims = run_dims(sim, declared)
    except SchemaError as exc:
        return [str(exc)]
    who = owners(declared)
    keys = {k.name: k for s in declared.values() for k in s.owns}
    for name, by in who.items():
        if len(by) > 1:
            problems.append(f"{name} is declared by {' and '.join(by)}")
    state = sim.state
    for name, arr in state.arrays.items():
        key = keys.get(name)
        if key is None or key.kind != "array":
            problems.append(f"array {name} is in the state but no one declares it")
            continue
        if arr.dtype != np.dtype(key.dtype):
            problems.append(f"{name} ({who[name][0]}) is {arr.dtype}, declared {key.dtype}")
        try:
            want = resolve(key.shape, dims)
        except KeyError as exc:
            problems.append(f"{name} ({who[name][0]}) has an unknown dimension {exc.args[0]!r}")
            continue
        if arr.shape != want:
            problems.append(f"{name} ({who[name][0]}) has shape {arr.shape}, declared {key.shape} = {want}")
    for name, value in state.facts.items():
        key = keys.get(name)
        if key is None or key.kind != "fact":
            problems.append(f"fact {name} is in the state but no one declares it")
        elif type(value).__name__ != key.dtype:
            problems.append(f"fact {name} ({who[name][0]}) is a {type(value).__name__}, declared {key.dtype}")
    for name, key in keys.items():
        if key.kind == "array" and name not in state.arrays:
            problems.append(f"{name} is declared by {who[name][0]} but its reset did not create it")
    for owner, schema in declared.items():
        for verb, names in (("reads", schema.reads), ("writes", schema.writes)):
            for name in names:
                if name not in who:
                    problems.append(f"{owner} {verb} {name}, which no one owns")
                elif owner in who[name]:
                    problems.append(f"{owner} {verb} {name}, its own key")
    return problems


_SOUND = Memo(64)  # the layouts found to match their declarations in this process (check_schema)


def check_schema(sim) -> None:
    """Raise :class:`SchemaError` listing every mismatch between the state and the declarations.

    A state laid out as one found sound before in this process (the same subsystem classes,
    in order, the same arrays with their shapes and dtypes, the same facts of the same types:
    another seed of a scenario, a batch's next station) is not checked again."""
    layout = (tuple(type(s) for s in sim.subsystems),
              tuple(sorted((k, v.shape, v.dtype.str) for k, v in sim.state.arrays.items())),
              tuple(sorted((k, type(v).__name__) for k, v in sim.state.facts.items())))
    _SOUND.get(layout, lambda: _sound(sim))


def _sound(sim) -> bool:
    """True, or :class:`SchemaError` listing every mismatch (see :func:`check_schema`)."""
    problems = schema_problems(sim)
    if problems:
        raise SchemaError("the state does not match its declaration:\n  " + "\n  ".join(problems))
    return True


def describe(sim) -> list[dict[str, Any]]:
    """The declared state as rows: key, kind, owner, shape (symbolic and resolved), dtype, unit,
    doc, readers and writers (other than the owner), in owner order."""
    declared = schemas(sim)
    dims = run_dims(sim, declared)
    readers: dict[str, list[str]] = {}
    writers: dict[str, list[str]] = {}
    for owner, schema in declared.items():
        for name in schema.reads:
            readers.setdefault(name, []).append(owner)
        for name in schema.writes:
            writers.setdefault(name, []).append(owner)
    rows = []
    for owner, schema in declared.items():
        for key in schema.owns:
            try:
                resolved: Optional[list[int]] = list(resolve(key.shape, dims))
            except KeyError:
                resolved = None
            rows.append({
                "key": key.name, "kind": key.kind, "owner": owner, "shape": [d for d in key.shape],
                "resolved": resolved, "dtype": key.dtype, "unit": key.unit, "doc": key.doc,
                "readers": readers.get(key.name, []), "writers": writers.get(key.name, []),
            })
    return rows


# ---------------------------------------------------------------------- the write guard


_MISSING = object()


class _Frame:
    __slots__ = ("owner", "what", "state", "arrays", "facts")

    def __init__(self, owner: str, what: str, state):
        self.owner, self.what, self.state = owner, what, state
        self.take()

    def take(self) -> None:
        self.arrays = {k: v.tobytes() for k, v in self.state.arrays.items()}
        self.facts = dict(self.state.facts)


class WriteGuard:
    """Watch a simulation and report every change to a key by someone who may not change it.

    While installed (``with WriteGuard(sim) as guard:``), each subsystem's ``update`` and
    ``handle`` and the command port (``sim.port.submit``/``scheduled``, acting for the control
    subsystem) are wrapped: after each call the bytes of every array (and the identity of
    every fact) the caller neither owns nor declares in ``writes`` are compared with
    before. A call nested in another (a command an agent submits, the event a command
    dispatches to its owner) is charged to its own subsystem. ``guard.violations`` holds
    ``(t_ms, subsystem, call, key)``; with ``strict=True`` the outermost call raises
    :class:`SchemaError` (raised deeper, the pipeline would record it as a failed command).
    """

    def __init__(self, sim, strict: bool = False):
        self.sim = sim
        self.strict = strict
        self.violations: list[tuple[int, str, str, str]] = []
        declared = schemas(sim)
        self.allowed = {owner: {k.name for k in s.owns} | set(s.writes) for owner, s in declared.items()}
        self._stack: list[_Frame] = []
        self._saved: list[tuple[object, str, object]] = []

    # ------------------------------------------------------------------ installing

    def __enter__(self) -> "WriteGuard":
        self.install()
        return self

    def __exit__(self, *exc) -> None:
        self.uninstall()

    def install(self) -> None:
        for sub in self.sim.subsystems:
            self._wrap(sub, "update", sub.name, lambda args: "update")
            self._wrap(sub, "handle", sub.name, lambda args: f"handle {args[1].kind}")
        for entry in ("submit", "scheduled"):  # the command port: where every command enters a frame
            self._wrap(self.sim.port, entry, COMMANDS,
                       lambda args: f"command {getattr(args[1], 'name', None) or getattr(args[1], 'kind', '?')}",
                       state_of=lambda args: self.sim.state)

    def uninstall(self) -> None:
        for obj, name, before in reversed(self._saved):
            if before is _MISSING:
                del obj.__dict__[name]  # the class's method shows through again
            else:
                setattr(obj, name, before)
        self._saved.clear()

    def _wrap(self, obj, name: str, owner: str, what, state_of=None) -> None:
        inner = getattr(obj, name)
        state_of = state_of or (lambda args: args[0])

        def wrapped(*args, **kwargs):
            state = state_of(args)
            if state is not self.sim.state:  # a dry run's scratch state: nothing real can change
                return inner(*args, **kwargs)
            self._enter(owner, what(args), state)
            try:
                return inner(*args, **kwargs)
            finally:
                self._exit()

        before = obj.__dict__.get(name, _MISSING)
        setattr(obj, name, wrapped)
        self._saved.append((obj, name, before))

    # ------------------------------------------------------------------ watching

    def _enter(self, owner: str, what: str, state) -> None:
        if self._stack:
            self._check(self._stack[-1])  # what changed so far was the caller's doing
        self._stack.append(_Frame(owner, what, state))

    def _exit(self) -> None:
        frame = self._stack.pop()
        found = self._check(frame)
        if self._stack:
            self._stack[-1].take()
        elif self.strict and (found or self.violations):
            t, owner, what, key = self.violations[-1]
            raise SchemaError(f"{owner} ({what}) changed {key}, which it does not own")

    def _check(self, frame: _Frame) -> bool:
        st, allowed = frame.state, self.allowed.get(frame.owner, set())
        found = False
        now = st.arrays
        for key in frame.arrays.keys() | now.keys():
            if key in allowed:
                continue
            arr = now.get(key)
            if arr is None or frame.arrays.get(key) != arr.tobytes():
                self.violations.append((st.t_ms, frame.owner, frame.what, key))
                found = True
        for key in frame.facts.keys() | st.facts.keys():
            if key not in allowed and frame.facts.get(key, frame) is not st.facts.get(key, frame):
                self.violations.append((st.t_ms, frame.owner, frame.what, key))
                found = True
        return found

    def report(self) -> list[str]:
        """The violations, one line each (``subsystem (call) changed key, owned by owner``)."""
        who = owners(schemas(self.sim))
        return [f"t={t} {owner} ({what}) changed {key}, owned by {', '.join(who.get(key, ['no one']))}"
                for t, owner, what, key in self.violations]
