"""Dispersed inputs: what a campaign draws afresh for each of its runs.

A scenario's ``[[dispersions]]`` name fields of the same file (a trait, a decision point, the
time of an event, a setting of the agents) and how to draw each: ``fixed``, a ``choice`` with
weights, or a ``uniform``, ``normal`` or ``lognormal`` range. ``[[correlations]]`` tie draws
together through a Gaussian copula: each run draws one standard normal per dispersion,
correlated by the matrix the pairs make, and maps each through its own distribution (a
uniform and a choice through the normal's CDF, a normal and a lognormal directly).

:func:`draw` gives run ``index`` of a campaign its inputs, ``{name: value}``, from a numpy
generator seeded by the campaign's seed and the index alone: run 17 draws the same inputs
in a campaign of 20 runs as of 20,000, on any machine. :func:`apply` writes the inputs into
a scenario's data before it is validated (:func:`issim.scenario.load.parse_scenario`), so a
drawn run is checked like any other, and is replayed from the scenario's bytes, its
inputs and its seed. :func:`check` refuses, before anything runs, a dispersion that can draw
outside its field's domain (a trait above 1, an event before the start).
"""

from __future__ import annotations

import math
import tomllib
from typing import Any, Optional

import numpy as np

from ..errors import InputError
from ..sim.rng import stream_seed

KINDS = ("fixed", "choice", "uniform", "normal", "lognormal")
TIME_FIELDS = ("at", "war_at", "after")  # offsets from the start: drawn in hours, written as +Ns
HOUR_MS = 3_600_000
_PARAMS = {"normal": (("mean", "sd"), ("min", "max")), "lognormal": (("median", "sigma"), ("min", "max"))}


def kind(d) -> str:
    """Which way a dispersion draws (exactly one is given; :func:`check` holds that)."""
    return next(k for k in KINDS if getattr(d, k) is not None)


def target_path(target: str) -> list:
    """A target's keys, as TOML reads the dotted key: ``agents.people."Kira Foster".loyalty`` is
    ``["agents", "people", "Kira Foster", "loyalty"]``; a number indexes a list (``events.5.at``)."""
    try:
        data = tomllib.loads(f"{target} = 0")
    except tomllib.TOMLDecodeError:
        raise ValueError(f"{target!r} is not a dotted key of the file (agents.people.\"Kira Foster\".loyalty)") from None
    keys: list = []
    while isinstance(data, dict):
        (key, data), = data.items()
        keys.append(int(key) if key.isdigit() else key)
    return keys


def _node(data: dict, keys: list, create: bool):
    """The container that holds the last key, made along the way (tables only) when ``create``."""
    node: Any = data
    for depth, key in enumerate(keys[:-1]):
        where = ".".join(str(k) for k in keys[: depth + 1])
        if isinstance(key, int):
            if not isinstance(node, list) or not 0 <= key < len(node):
                have = len(node) if isinstance(node, list) else 0
                raise ValueError(f"{where} is not there (the file has {have} of them, counted from 0)")
            node = node[key]
        else:
            if not isinstance(node, dict):
                raise ValueError(f"{where} is not a table of the file")
            if key not in node:
                if not create:
                    raise ValueError(f"{where} is not in the file")
                node[key] = {}
            node = node[key]
    last = keys[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or not 0 <= last < len(node):
            raise ValueError(f"{'.'.join(map(str, keys))} is not there")
    elif not isinstance(node, dict):
        raise ValueError(f"{'.'.join(map(str, keys[:-1]))} is not a table of the file")
    return node, last


def is_time(target: str) -> bool:
    keys = target_path(target)
    return isinstance(keys[-1], str) and keys[-1] in TIME_FIELDS


def written(target: str, value):
    """A drawn value as the file holds it: a time's hours as an offset (``+109800s``)."""
    if is_time(target) and isinstance(value, (int, float)) and not isinstance(value, bool):
        ms = round(value * HOUR_MS) if 0 <= value * HOUR_MS < 1e15 else 0
        return f"+{ms // 1000}.{ms % 1000:03d}s"
    return value


def apply(data: dict, inputs: dict, source: str = "<scenario>") -> dict:
    """The scenario's data (after ``extends``) with each dispersion's field set to its input
    (``{name: value}``): a copy; the dispersions without an input keep the file's value."""
    import copy

    out = copy.deepcopy(data)
    by_name = {d.get("name"): d for d in data.get("dispersions", []) if isinstance(d, dict)}
    for name, value in inputs.items():
        d = by_name.get(name)
        if d is None:
            raise InputError(f"{source}:dispersions", f"no dispersion named {name!r} for a drawn input")
        node, last = _node(out, target_path(d["target"]), create=True)
        node[last] = written(d["target"], value)
    return out


# ------------------------------------------------------------------------ checks


def _domain(keys: list) -> tuple[float, float, bool, bool]:
    """``(low, high, low_open, high_open)`` of a numeric field, from the schema's own bounds."""
    import typing

    from annotated_types import Ge, Gt, Le, Lt
    from pydantic import BaseModel

    from .schema import MAX_DAYS, Scenario

    if isinstance(keys[-1], str) and keys[-1] in TIME_FIELDS:
        return 0.0, MAX_DAYS * 24.0, False, False
    lo, hi, lo_open, hi_open = -math.inf, math.inf, False, False
    ann: Any = Scenario
    info = None
    for key in keys:
        while True:  # unwrap Optional[...] and Annotated[...]
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if typing.get_origin(ann) in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
                ann = args[0]
            elif typing.get_origin(ann) is typing.Annotated:
                ann = args[0]
            else:
                break
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            info = ann.model_fields.get(key)
            if info is None:
                return lo, hi, lo_open, hi_open
            ann = info.annotation
        elif typing.get_origin(ann) is dict:
            ann, info = typing.get_args(ann)[1], None
        elif typing.get_origin(ann) is list:
            ann, info = typing.get_args(ann)[0], None
        else:
            return lo, hi, lo_open, hi_open
    for m in (info.metadata if info is not None else ()):
        if isinstance(m, Ge):
            lo, lo_open = float(m.ge), False
        elif isinstance(m, Gt):
            lo, lo_open = float(m.gt), True
        elif isinstance(m, Le):
            hi, hi_open = float(m.le), False
        elif isinstance(m, Lt):
            hi, hi_open = float(m.lt), True
    return lo, hi, lo_open, hi_open


def _bounds(d) -> tuple[float, float]:
    """The range a numeric dispersion's draws can take: for a normal or a lognormal, the range
    they are clipped to (its ``min`` and ``max``, else the field's domain)."""
    k = kind(d)
    if k == "fixed":
        return float(d.fixed), float(d.fixed)
    if k == "uniform":
        return float(d.uniform[0]), float(d.uniform[1])
    params = getattr(d, k)
    lo, hi, lo_open, hi_open = _domain(target_path(d.target))
    if k == "lognormal":
        lo = max(lo, 0.0)
    low = params.get("min", lo)
    high = params.get("max", hi)
    return float(low), float(high)


def check(spec, data: dict, validate) -> None:
    """Refuse (:class:`InputError` naming ``dispersions[i].<field>``) a dispersion whose target
    is not a field of the file or that can draw outside the field's domain, and correlations
    that name no dispersion or make no correlation matrix. ``validate(data)`` validates a
    scenario's data (raising :class:`InputError`): each dispersion's extreme values are put
    in and validated, so the field's own rules say what is outside."""
    source = spec.source or "<scenario>"
    names = [d.name for d in spec.dispersions]
    for i, d in enumerate(spec.dispersions):
        where = f"{source}:dispersions[{i}]"
        if d.name in names[:i]:
            raise InputError(f"{where}.name", f"duplicate name {d.name!r}; each dispersion needs its own")
        given = [k for k in KINDS if getattr(d, k) is not None]
        if len(given) != 1:
            raise InputError(where, f"give exactly one of {', '.join(KINDS)}; got {len(given)}")
        k = given[0]
        try:
            keys = target_path(d.target)
            _node(data, keys, create=True) if keys[0] in ("decisions", "agents") else _node(data, keys, create=False)
        except ValueError as exc:
            raise InputError(f"{where}.target", str(exc)) from None
        if keys[0] in ("scenario", "dispersions", "correlations") or (keys[0] == "scenario" and keys[-1] == "name"):
            raise InputError(f"{where}.target", f"{d.target} cannot be dispersed (the scenario's identity, "
                                                "or the dispersions themselves)")
        if d.target in [e.target for e in spec.dispersions[:i]]:
            raise InputError(f"{where}.target", f"{d.target} is dispersed twice; give it one dispersion")
        if k == "choice":
            if not d.choice:
                raise InputError(f"{where}.choice", "give at least one value and its weight")
            if any(w < 0 for w in d.choice.values()) or not sum(d.choice.values()) > 0:
                raise InputError(f"{where}.choice", "weights must be 0 or more, and not all 0")
            extremes: list = list(d.choice)
        elif k == "fixed":
            extremes = [d.fixed]
        else:
            if k in _PARAMS:
                needed, optional = _PARAMS[k]
                params = getattr(d, k)
                missing = [p for p in needed if p not in params]
                extra = [p for p in params if p not in needed + optional]
                if missing or extra:
                    raise InputError(f"{where}.{k}", f"give {' and '.join(needed)} (and optionally min, max)"
                                                     + (f"; {', '.join(extra)} is not one of them" if extra else ""))
                spread = params[needed[1]]
                if not spread > 0:
                    raise InputError(f"{where}.{k}", f"{needed[1]} must be more than 0, got {spread:g}")
                if k == "lognormal" and not params["median"] > 0:
                    raise InputError(f"{where}.{k}", f"median must be more than 0, got {params['median']:g}")
            low, high = _bounds(d)
            if not low < high:
                raise InputError(f"{where}.{k}", f"the range [{low:g}, {high:g}] is empty; give low < high")
            if not (math.isfinite(low) and math.isfinite(high)):
                raise InputError(f"{where}.{k}", f"{d.target} has no bound on one side: give min and max")
            extremes = [low, high]
        if keys[0] == "decisions" and len(keys) == 2:
            from ..agents.decisions import check_decisions

            for value in extremes:
                bad = check_decisions({keys[1]: value})
                if bad:
                    raise InputError(f"{where}.{k}", f"{d.target}: {bad[1]}")
        if keys[:2] == ["agents", "people"] and len(keys) > 2 and keys[2] not in [c.name for c in spec.crew]:
            raise InputError(f"{where}.target", f"no crew member {keys[2]!r}; the crew are "
                                                f"{', '.join(c.name for c in spec.crew)}")
        for value in extremes:
            try:
                validate(apply(data, {d.name: value}, source))
            except InputError as err:
                what = "fixed" if k == "fixed" else k
                raise InputError(f"{where}.{what}", f"can draw {value!r}, outside what {d.target} takes "
                                                    f"({err.message})") from None
    for i, c in enumerate(spec.correlations):
        where = f"{source}:correlations[{i}]"
        for name in c.between:
            if name not in names:
                raise InputError(f"{where}.between", f"no dispersion named {name!r}; dispersions: "
                                                     f"{', '.join(names) or 'none'}")
        a, b = c.between
        if a == b:
            raise InputError(f"{where}.between", "a dispersion is not correlated with itself; name two")
        if "fixed" in (kind(spec.dispersions[names.index(a)]), kind(spec.dispersions[names.index(b)])):
            raise InputError(f"{where}.between", "a fixed input has no spread to correlate")
    if spec.correlations:
        try:
            cholesky(spec)
        except np.linalg.LinAlgError:
            raise InputError(f"{source}:correlations", "the correlations make no correlation matrix (it is not "
                                                       "positive definite): loosen some of them") from None


# ------------------------------------------------------------------------ draws


def cholesky(spec) -> np.ndarray:
    """The lower Cholesky factor of the dispersions' correlation matrix (the identity without correlations)."""
    names = [d.name for d in spec.dispersions]
    m = np.eye(len(names))
    for c in spec.correlations:
        i, j = names.index(c.between[0]), names.index(c.between[1])
        m[i, j] = m[j, i] = c.rho
    return np.linalg.cholesky(m)


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def run_seed(campaign_seed: int, index: int) -> int:
    """The simulation seed of a campaign's run ``index``."""
    return int(campaign_seed) + int(index)


def draw(spec, campaign_seed: int, index: int, factor: Optional[np.ndarray] = None) -> dict:
    """Run ``index``'s inputs, ``{name: value}`` in the file's order: deterministic from the
    campaign's seed and the index (a stream of its own, :func:`issim.sim.rng.stream_seed`)."""
    if not spec.dispersions:
        return {}
    rng = np.random.Generator(np.random.PCG64(stream_seed(campaign_seed, f"campaign.run.{int(index)}")))
    z = rng.standard_normal(len(spec.dispersions))
    if spec.correlations:
        z = (cholesky(spec) if factor is None else factor) @ z
    out: dict = {}
    for d, zi in zip(spec.dispersions, z):
        k = kind(d)
        zi = float(zi)
        if k == "fixed":
            value = d.fixed
        elif k == "choice":
            total = sum(d.choice.values())
            u, acc = _phi(zi) * total, 0.0
            value = next((v for v, w in d.choice.items() if w > 0 and (acc := acc + w) >= u),
                         [v for v, w in d.choice.items() if w > 0][-1])
        elif k == "uniform":
            low, high = d.uniform
            value = low + (high - low) * _phi(zi)
        else:
            params = getattr(d, k)
            low, high = _bounds(d)
            raw = params["mean"] + params["sd"] * zi if k == "normal" else params["median"] * math.exp(params["sigma"] * zi)
            value = min(max(raw, low), high)
        out[d.name] = value
    return out
