"""The command catalogue: every typed command, its arguments, significance, system and rule.

A :class:`Command` is a small frozen record: ``name``, ``actor`` (a crew member's name,
``houston`` or ``moscow``, or ``operator`` for a human at the CLI or browser),
``target``, ``args`` (a tuple of ``(name, value)`` pairs) and ``source`` (``agent``,
``ground``, ``cli``, ``browser`` or ``scenario``). :data:`CATALOGUE` maps each name to a
:class:`CommandSpec`:

- the target's kind and the argument schema (names, types, ranges, defaults);
- the significance, as in Yamcs: ``none``, ``watch``, ``warning``, ``critical``;
- the system it belongs to (``life-support``, ``power``, ``hatch``...; segment-qualified
  in the control map);
- the authority rule (:mod:`issim.control.authority`) and who may issue it at all;
- the executor and the verifier. Most executors build the engine event the handling
  subsystem already understands (``close_hatch`` -> the atmosphere's ``close_hatch``)
  and hand it to the engine's dispatch now, so the outcome is known at once; the rest
  act on the :class:`~issim.control.custody.Custody` state (locks, credentials, items,
  the arm, vehicles). The verifier checks that the intended change is in the state.

``docs/commands.md`` is the reader's version of this file; ``issim commands`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from ..sim.events import Event
from ..sim.world import SEGMENTS
from . import confront as fight, work
from .authority import GROUNDS, Reason, Refusal

SOURCES = ("agent", "ground", "cli", "browser", "scenario")
SIGNIFICANCE = ("none", "watch", "warning", "critical")


@dataclass(frozen=True)
class Command:
    """One command: who asks what of which target, with which arguments, from where."""

    name: str
    actor: str
    target: str = ""
    args: tuple = ()
    source: str = "cli"

    @classmethod
    def of(cls, name: str, actor: str, target: str = "", *, source: str = "cli", **args: Any) -> "Command":
        """``Command.of("switch", "Maya Torres", "cdra-1", on=False)``: args as keywords."""
        return cls(name, actor, target, tuple(sorted((k, _freeze(v)) for k, v in args.items())), source)

    def arg(self, name: str, default: Any = None) -> Any:
        for pair in self.args:
            if isinstance(pair, tuple) and len(pair) == 2 and pair[0] == name:
                return pair[1]
        return default


def _freeze(value):
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class CommandResult:
    """What became of a command.

    ``result`` is ``done``, ``started`` (work that takes time: the effect lands when it is
    finished, see :mod:`issim.control.work`), ``refused`` (at validate or authority),
    ``failed`` (at execute: the station refused; or verify; or the work was interrupted),
    or ``allowed`` (a dry run of a command whose outcome is drawn at random, which stops
    after authority). ``stage`` is the last stage
    reached; ``reason`` a :class:`~issim.control.authority.Reason` value (empty when
    done); ``message`` says why not, or what happened.
    """

    command: Command
    t_ms: int
    result: str
    stage: str
    reason: str = ""
    message: str = ""
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.result in ("done", "started", "allowed")


# ---------------------------------------------------------------------------- arguments


@dataclass(frozen=True)
class Arg:
    """One argument: ``kind`` is bool, number, int, text, choice, person, people or rate."""

    name: str
    kind: str
    required: bool = True
    default: Any = None
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    choices: tuple = ()
    doc: str = ""

    def describe(self) -> str:
        if self.kind == "choice":
            shown = "|".join(self.choices)
        elif self.kind in ("number", "int") and (self.low is not None or self.high is not None):
            lo = "-inf" if self.low is None else f"{self.low:g}"
            hi = "inf" if self.high is None else f"{self.high:g}"
            shown = f"{self.kind} {'(' if self.low_open else '['}{lo}, {hi}]"
        elif self.kind == "rate":
            shown = "number or 'auto'"
        else:
            shown = self.kind
        opt = "" if self.required else f" = {self.default!r}"
        return f"{self.name}: {shown}{opt}"

    def check(self, value: Any, d) -> tuple[Any, Optional[str]]:
        """``(value, None)`` when good (people resolved to indices), else ``(None, problem)``."""
        k = self.kind
        if k == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value), None
            return None, "true or false"
        if k in ("number", "int", "rate"):
            if k == "rate" and value == "auto":
                return value, None
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                return None, "a number" if k != "rate" else "a number or 'auto'"
            if k == "int" and float(value) != int(value):
                return None, "a whole number"
            v = float(value) if k != "int" else int(value)
            if not np.isfinite(v):
                return None, "a finite number"
            if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
                return None, f"{'above' if self.low_open else 'at least'} {self.low:g}"
            if self.high is not None and v > self.high:
                return None, f"at most {self.high:g}"
            return v, None
        if k == "text":
            if isinstance(value, str) and value.strip():
                return value, None
            return None, "non-empty text"
        if k == "choice":
            if value in self.choices:
                return value, None
            return None, f"one of {', '.join(self.choices)}"
        if k == "person":
            p = d.person(value) if isinstance(value, str) else None
            if p is None:
                return None, f"a crew member ({', '.join(d.names) or 'nobody aboard'})"
            return p, None
        if k == "people":
            if isinstance(value, str):
                value = (value,)
            if not isinstance(value, tuple):
                return None, "a list of crew members"
            out = []
            for name in value:
                p = d.person(name) if isinstance(name, str) else None
                if p is None:
                    return None, f"crew members; {name!r} is not one"
                out.append(p)
            return tuple(out), None
        return None, f"an argument of unknown kind {k!r}"


# ---------------------------------------------------------------------------- targets

TARGETS = {
    "hatch": "a hatch id (zarya-zvezda)",
    "machine": "a life-support machine id (cdra-1, elektron)",
    "o2_generator": "an O2 generator id (elektron, oga)",
    "tank": "a stored-gas tank id (quest-o2)",
    "volume": "a module or docked-vehicle id",
    "module": "a module id (destiny, zvezda)",
    "vehicle": "a docked vehicle id (soyuz-ms)",
    "segment": "USOS or ROS",
    "ros": "ROS (or empty)",
    "engine": "an engine id (zvezda, progress-ms)",
    "tanker": "a docked Progress's engine id (progress-ms)",
    "link": "a link id (usos-s-band, ros-lira)",
    "person": "a crew member's name",
    "party": "houston, moscow, USOS, ROS or a crew member",
    "item": "an item id (of the scenario's [[items]])",
    "self": "empty (or the actor's own name)",
    "none": "empty",
}


def target_table(d, kind: str) -> Optional[dict]:
    """``{name: resolved target}`` for a kind of target named from a table (hatches,
    machines, segments...); ``None`` for the kinds resolved otherwise (people, parties)."""
    return {
        "hatch": d.link_index, "machine": d.machine_index, "o2_generator": d.generator_index,
        "tank": d.tank_index, "volume": d.volume_index, "vehicle": d.vehicle_index,
        "segment": {s: i for i, s in enumerate(SEGMENTS)}, "engine": {e: e for e in d.engines},
        "module": {m: v for m, v in d.volume_index.items() if m not in d.vehicle_index},
        "tanker": {e: e for e in d.engines if e in d.vehicle_index},
        "link": d.comms_link_index, "item": d.item_index,
    }.get(kind)


def resolve_target(d, kind: str, text: Any, actor_index: int = -1) -> tuple[Any, Optional[str]]:
    """The target as an index (or id), or ``(None, problem)``."""
    if not isinstance(text, str):
        return None, f"the target must be text, not {type(text).__name__}"
    table = target_table(d, kind)
    if table is not None:
        if text in table:
            return table[text], None
        known = ", ".join(table) or "none in this simulation"
        return None, f"no {kind.replace('_', ' ')} {text!r}; {TARGETS[kind]}: {known}"
    if kind == "ros":
        return (SEGMENTS.index("ROS"), None) if text in ("", "ROS") else (None, f"the target is ROS, not {text!r}")
    if kind == "none":
        return (None, None) if text == "" else (None, f"takes no target, got {text!r}")
    if kind == "self":
        if text == "" or (actor_index >= 0 and d.person(text) == actor_index):
            return actor_index, None
        return None, "acts on the actor themself: leave the target empty"
    if kind == "person":
        p = d.person(text)
        return (p, None) if p is not None else (None, f"no crew member {text!r}; the crew are {', '.join(d.names)}")
    if kind == "party":
        if text.lower() in GROUNDS or text in SEGMENTS or d.person(text) is not None:
            return text, None
        return None, f"no one called {text!r}; {TARGETS['party']}"
    return None, f"unknown target kind {kind!r}"


# ---------------------------------------------------------------------------- the catalogue


@dataclass
class Ctx:
    """What an executor and a verifier see: the command resolved, the state, the engine."""

    sim: Any
    state: Any
    custody: Any  # the run's Custody: the custody actions some executors call
    cmd: Command
    spec: "CommandSpec"
    who: Any  # authority.Actor
    target: Any
    args: dict
    dry_run: bool = False
    before: Any = None
    effect: str = ""

    def dispatch(self, event: Event) -> Optional[str]:
        return self.sim._dispatch(event, self.state, log=False)

    @property
    def d(self):
        """The run's :class:`~issim.control.directory.Directory` (names and indices)."""
        return self.custody.directory

    @property
    def me(self) -> int:
        return self.who.index


@dataclass(frozen=True)
class CommandSpec:
    name: str
    summary: str
    target: str
    args: tuple[Arg, ...]
    significance: str
    system: str
    rule: str
    actors: tuple[str, ...] = ("crew",)  # who may issue it at all: crew, ground, operator
    event: Optional[Callable[[Ctx], Event]] = None  # the engine event it becomes
    execute: Optional[Callable[[Ctx], Optional[str]]] = None  # else: dispatch `event`
    verify: Optional[Callable[[Ctx], Optional[str]]] = None
    before: Optional[Callable[[Ctx], Any]] = None  # what verify compares against
    segment: Optional[Callable[[Any, Any], int]] = None  # (directory, target) -> segment index
    place: Optional[Callable[[Any, Any], int]] = None  # (directory, target) -> volume index
    random: bool = False  # the outcome is drawn: a dry run stops after authority
    work: Optional[Callable[[Ctx], float]] = None  # seconds of work before the effect (issim.control.work)
    on_start: Optional[Callable[[Ctx], None]] = None  # what starting the work changes at once

    def segment_of(self, d, target) -> int:
        return self.segment(d, target)

    def place_of(self, d, target) -> int:
        return self.place(d, target)


def _ev(kind: str, target: Callable[[Ctx], str], **args: Callable[[Ctx], Any]) -> Callable[[Ctx], Event]:
    def build(c: Ctx) -> Event:
        pairs = tuple(sorted((k, f(c)) for k, f in args.items()))
        return Event(c.state.t_ms, kind, target(c), pairs, source=c.who.name)
    return build


def _me(c: Ctx) -> str:
    return c.d.names[c.me]


def _text(c: Ctx) -> str:
    return c.cmd.target


def _ros(c: Ctx) -> str:
    return "ROS"


def _expect(ok: bool, message: str) -> Optional[str]:
    return None if ok else message


def _seg_of_machine(d, i) -> int:
    return d.machines[i][2]


def _vol_of_machine(d, i) -> int:
    return d.machines[i][1]


LINK_HARDWARE = {"USOS": "destiny", "ROS": "zvezda"}  # where each segment's comms avionics are worked on


def link_hardware(d, k) -> int:
    """The module where link ``k`` is mended: its segment's comms avionics."""
    seg = d.comms_links[k][1]
    v = d.volume_index.get(LINK_HARDWARE[d.segments[seg]])
    return v if v is not None else d.segment_modules[seg][0]


def _state_flag(key: str, index: Callable[[Ctx], int], want: Callable[[Ctx], Any], what: str):
    def verify(c: Ctx) -> Optional[str]:
        got = c.state[key][index(c)]
        return _expect(bool(got == want(c)), f"{what}: {key}[{index(c)}] is {got}")
    return verify


SPECS: list[CommandSpec] = []


def _add(**kw) -> None:
    SPECS.append(CommandSpec(**kw))


_T, _I = (lambda c: c.target), (lambda c: 0)

# -- the crew's own bodies ---------------------------------------------------------------

_add(name="move", summary="go to a module or vehicle through open hatches", target="volume", args=(),
     significance="none", system="crew", rule="move",
     event=_ev("move", _me, to=lambda c: c.cmd.target),
     verify=lambda c: _expect(int(c.state["crew.location"][c.me]) == c.target, "the actor is not there"))
_add(name="board", summary="take a seat in a docked vehicle (go in through open hatches)", target="vehicle",
     args=(), significance="watch", system="vehicle", rule="board",
     event=_ev("move", _me, to=lambda c: c.cmd.target),
     verify=lambda c: _expect(int(c.state["crew.location"][c.me]) == c.target, "the actor is not aboard"))
_add(name="carry", summary="take an unconscious person along to a module or vehicle", target="person",
     args=(Arg("to", "text"),), significance="watch", system="crew", rule="carry",
     execute=lambda c: c.custody.carry(c, c.target, c.args["to"]),
     verify=lambda c: _expect(int(c.state["crew.location"][c.target]) == c.d.volume_index[c.args["to"]]
                              and int(c.state["crew.location"][c.me]) == int(c.state["crew.location"][c.target]),
                              "they are not there"))
_add(name="begin_eva", summary="go outside from an airlock (Quest or Poisk)", target="self", args=(),
     significance="warning", system="crew", rule="begin_eva", event=_ev("eva_begin", _me),
     work=lambda c: work.PREP_S.get(c.d.volume_ids[int(c.state["crew.location"][c.me])], 0.0),
     verify=lambda c: _expect(bool(c.state["crew.on_eva"][c.me]), "the actor is not outside"))
_add(name="end_eva", summary="come back in through the airlock", target="self", args=(),
     significance="watch", system="crew", rule="end_eva", event=_ev("eva_end", _me),
     verify=lambda c: _expect(not c.state["crew.on_eva"][c.me], "the actor is still outside"))
_add(name="unclip_tether", summary="unclip the safety tether outside (to reach further)", target="self", args=(),
     significance="warning", system="crew", rule="outside", event=_ev("unclip", _me),
     verify=lambda c: _expect(not c.state["crew.tethered"][c.me], "the actor is still clipped on"))
_add(name="clip_tether", summary="clip the safety tether to the structure again", target="self", args=(),
     significance="none", system="crew", rule="outside", event=_ev("clip", _me),
     verify=lambda c: _expect(bool(c.state["crew.tethered"][c.me]), "the actor is not clipped on"))
_add(name="treat", summary="stop a wounded person's bleeding (first aid, in the same volume)", target="person",
     args=(), significance="watch", system="crew", rule="treat", work=lambda c: work.TREAT_S,
     event=lambda c: Event(c.state.t_ms, "treat", c.d.names[c.target], source=c.who.name),
     verify=_state_flag("crew.bleeding", _T, lambda c: False, "still bleeding"))

_add(name="stop_work", summary="stop the work in hand (what is not finished is not done)", target="self", args=(),
     significance="none", system="crew", rule="stop_work", execute=lambda c: c.custody.stop_work(c, "stopped"),
     verify=lambda c: _expect(int(c.state["control.task"][c.me]) < 0, "still working"))

# -- hatches -------------------------------------------------------------------------------

_add(name="open_hatch", summary="open a hatch (not against more than 0.3 kPa)", target="hatch", args=(),
     significance="watch", system="hatch", rule="hatch", actors=("crew", "operator"),
     event=_ev("open_hatch", _text), verify=_state_flag("hatch.open", _T, lambda c: True, "still closed"))
_add(name="close_hatch", summary="close a hatch", target="hatch", args=(), significance="watch", system="hatch",
     rule="hatch", actors=("crew", "operator"), event=_ev("close_hatch", _text),
     verify=_state_flag("hatch.open", _T, lambda c: False, "still open"))
_add(name="equalize", summary="open a closed hatch's equalisation valve", target="hatch", args=(),
     significance="warning", system="hatch", rule="hatch", actors=("crew", "operator"),
     event=_ev("equalize", _text),
     verify=lambda c: _expect(bool(c.state["hatch.valve_open"][c.target] or c.state["hatch.open"][c.target]),
                              "the valve is shut"))
_add(name="lock_hatch", summary="lock a closed hatch from the actor's side", target="hatch", args=(),
     significance="warning", system="hatch", rule="lock",
     execute=lambda c: c.custody.lock(c.state, c.target, int(c.state["crew.location"][c.me])),
     verify=lambda c: _expect(int(c.state["control.lock_side"][c.target]) >= 0, "not locked"))
_add(name="unlock_hatch", summary="unlock a hatch (from the side that locked it)", target="hatch", args=(),
     significance="warning", system="hatch", rule="unlock", actors=("crew", "operator"),
     execute=lambda c: c.custody.unlock(c.state, c.target),
     verify=lambda c: _expect(int(c.state["control.lock_side"][c.target]) < 0, "still locked"))

# -- life support --------------------------------------------------------------------------

_LS = dict(system="life-support", segment=_seg_of_machine, actors=("crew", "ground", "operator"))
_add(name="switch", summary="switch a life-support machine on or off from a laptop", target="machine",
     args=(Arg("on", "bool"),), significance="warning", rule="computers", **_LS,
     event=_ev("switch", _text, on=lambda c: c.args["on"]),
     verify=_state_flag("ls.on", _T, lambda c: c.args["on"], "not switched"))
_add(name="set_rate", summary="run an O2 generator at a fixed rate (kg/day, 0 standby) or 'auto'",
     target="o2_generator", args=(Arg("kg_per_day", "rate", low=0.0),), significance="watch", rule="computers",
     **_LS, event=_ev("set_rate", _text, kg_per_day=lambda c: c.args["kg_per_day"]),
     verify=_state_flag("ls.fixed", _T, lambda c: c.args["kg_per_day"] != "auto", "rate not set"))
_add(name="disable", summary="put a machine out of action by hand (broken until repaired)", target="machine",
     args=(), significance="critical", system="life-support", rule="hands_on", actors=("crew", "operator"),
     place=_vol_of_machine, event=_ev("break", _text), work=lambda c: work.DISABLE_S,
     verify=_state_flag("ls.broken", _T, lambda c: True, "not broken"))
_add(name="repair", summary="repair a broken machine by hand", target="machine", args=(), significance="watch",
     system="life-support", rule="hands_on", actors=("crew", "operator"), place=_vol_of_machine,
     event=_ev("repair", _text), work=lambda c: work.REPAIR_S, verify=_state_flag("ls.broken", _T, lambda c: False, "still broken"))
_add(name="candle", summary="light oxygen candles (from the ROS stock) where the actor is", target="volume",
     args=(Arg("count", "int", required=False, default=1, low=1, high=50),), significance="watch",
     system="life-support", rule="hands_on", actors=("crew", "operator"), place=lambda d, v: v,
     event=_ev("candle", _text, count=lambda c: c.args["count"]),
     before=lambda c: int(c.state["ls.candles_left"][0]),
     verify=lambda c: _expect(int(c.state["ls.candles_left"][0]) == c.before - c.args["count"], "no candle lit"))
_add(name="release", summary="open a stored-gas tank into its module", target="tank",
     args=(Arg("kg", "number", low=0.0, low_open=True),), significance="watch", system="life-support",
     rule="hands_on", actors=("crew", "operator"), place=lambda d, k: d.tanks[k][1],
     event=_ev("release", _text, kg=lambda c: c.args["kg"]),
     before=lambda c: float(c.state["ls.tank_pending_kg"][c.target]),
     verify=lambda c: _expect(float(c.state["ls.tank_pending_kg"][c.target]) > c.before, "nothing released"))

# -- power ---------------------------------------------------------------------------------

_PW = dict(system="power", actors=("crew", "ground", "operator"), rule="computers")
_add(name="power_off", summary="cut a segment's power bus", target="segment", args=(), significance="critical",
     segment=lambda d, s: s, event=_ev("power_off", _text), **_PW,
     verify=_state_flag("power.bus", _T, lambda c: False, "bus still up"))
_add(name="power_on", summary="restore a segment's power bus", target="segment", args=(), significance="watch",
     segment=lambda d, s: s, event=_ev("power_on", _text), **_PW,
     verify=lambda c: _expect(not c.state["power.cut"][c.target], "bus still cut"))
_add(name="converters_off", summary="stop the converters passing US power to the ROS", target="ros", args=(),
     significance="warning", segment=lambda d, s: SEGMENTS.index("USOS"), event=_ev("converters_off", _ros),
     verify=_state_flag("power.converters_on", _I, lambda c: False, "still on"), **_PW)
_add(name="converters_on", summary="let the converters pass US power to the ROS again", target="ros", args=(),
     significance="watch", segment=lambda d, s: SEGMENTS.index("USOS"), event=_ev("converters_on", _ros),
     verify=_state_flag("power.converters_on", _I, lambda c: True, "still off"), **_PW)

# -- attitude and propulsion (all Russian) ---------------------------------------------------

_RS = dict(actors=("crew", "ground", "operator"), rule="computers",
           segment=lambda d, t: SEGMENTS.index("ROS"))
_add(name="stop_desat", summary="refuse CMG desaturation with the Russian thrusters", target="ros", args=(),
     significance="warning", system="attitude", event=_ev("stop_desat", _ros),
     verify=_state_flag("att.desat_allowed", _I, lambda c: False, "still allowed"), **_RS)
_add(name="allow_desat", summary="allow CMG desaturation again", target="ros", args=(), significance="watch",
     system="attitude", event=_ev("allow_desat", _ros),
     verify=_state_flag("att.desat_allowed", _I, lambda c: True, "still refused"), **_RS)
def _burn_event(c: Ctx) -> Event:
    """A burn with the one of ``dv_m_s`` and ``duration_s`` the command gave (propulsion
    refuses a burn with both or neither)."""
    pairs = tuple((k, c.args[k]) for k in ("dv_m_s", "duration_s") if c.args.get(k) is not None)
    return Event(c.state.t_ms, "burn", c.cmd.target, pairs, source=c.who.name)


_add(name="burn", summary="fire an engine for a reboost", target="engine",
     args=(Arg("dv_m_s", "number", required=False, low=0.0, high=20.0, low_open=True,
               doc="the velocity change; give it or duration_s"),
           Arg("duration_s", "number", required=False, low=0.0, high=7_200.0, low_open=True,
               doc="the firing time at the engine's thrust; give it or dv_m_s")),
     significance="critical", system="propulsion", event=_burn_event,
     before=lambda c: len(c.state.facts.get("prop.reboosts", ())),
     verify=lambda c: _expect(len(c.state.facts.get("prop.reboosts", ())) == c.before + 1, "no burn recorded"),
     **_RS)
for _name, _key, _want, _sig, _what in (
    ("refuse_burns", "prop.burns_allowed", False, "warning", "withhold the Russian segment's consent to reboosts"),
    ("allow_burns", "prop.burns_allowed", True, "watch", "give the consent to reboosts again"),
    ("thrusters_off", "prop.thrusters_enabled", False, "critical", "disable the Russian thrusters"),
    ("thrusters_on", "prop.thrusters_enabled", True, "watch", "enable the Russian thrusters"),
):
    _add(name=_name, summary=_what, target="ros", args=(), significance=_sig, system="propulsion",
         event=_ev(_name, _ros), verify=_state_flag(_key, _I, lambda c, w=_want: w, "not changed"), **_RS)

# -- communications -----------------------------------------------------------------------------

_CM = dict(system="comms", rule="computers", segment=lambda d, k: d.comms_links[k][1])
_add(name="cut_link", summary="cut a link to the ground (antenna, cable, transmitter)", target="link", args=(),
     significance="critical", actors=("crew", "ground", "operator"), event=_ev("cut_link", _text),
     verify=_state_flag("comms.link_ok", _T, lambda c: False, "still working"), **_CM)
_add(name="restore_link", summary="mend a cut link at its hardware (Destiny for the USOS, Zvezda for the ROS)",
     target="link", args=(), significance="watch", system="comms", rule="hands_on", actors=("crew", "operator"),
     segment=lambda d, k: d.comms_links[k][1], place=link_hardware, event=_ev("restore_link", _text),
     work=lambda c: work.RESTORE_LINK_S, verify=_state_flag("comms.link_ok", _T, lambda c: True, "still cut"))
_add(name="send_message", summary="send a message to the ground (crew) or to the crew (ground)", target="party",
     args=(Arg("text", "text"), Arg("id", "text", required=False)), significance="none", system="comms",
     rule="message", actors=("crew", "ground"),
     event=lambda c: Event(c.state.t_ms, "send_message", "", tuple(sorted(
         [("from", c.who.name), ("to", c.cmd.target), ("text", c.args["text"])]
         + ([("id", c.args["id"])] if c.args.get("id") else []))), source=c.who.name),
     before=lambda c: int(c.state["comms.messages"][2]),
     verify=lambda c: _expect(int(c.state["comms.messages"][2]) == c.before + 1, "no message queued"))
_SEG = dict(system="comms", rule="computers", actors=("crew", "operator"), segment=lambda d, s: s)
_add(name="block_messages", summary="stop a segment's messages getting through (they wait)", target="segment",
     args=(), significance="warning", event=_ev("block_messages", _text),
     verify=_state_flag("comms.blocked", _T, lambda c: True, "not blocked"), **_SEG)
_add(name="unblock_messages", summary="let a segment's messages through again", target="segment", args=(),
     significance="watch", event=_ev("unblock_messages", _text),
     verify=_state_flag("comms.blocked", _T, lambda c: False, "still blocked"), **_SEG)
_add(name="cut_suit_radio", summary="silence a person's suit radio", target="person", args=(),
     significance="critical", system="comms", rule="suit_radio", actors=("crew", "operator"),
     event=lambda c: Event(c.state.t_ms, "cut_suit_radio", c.d.names[c.target], source=c.who.name),
     verify=_state_flag("comms.suit_radio_ok", _T, lambda c: False, "still working"))
_add(name="restore_suit_radio", summary="mend a person's suit radio", target="person", args=(),
     significance="watch", system="comms", rule="suit_radio", actors=("crew", "operator"),
     event=lambda c: Event(c.state.t_ms, "restore_suit_radio", c.d.names[c.target], source=c.who.name),
     verify=_state_flag("comms.suit_radio_ok", _T, lambda c: True, "still cut"))

# -- sabotage by hand and its repair (issim.control.sabotage has the table) ------------------------

POWER_HARDWARE = {"USOS": "destiny", "ROS": "zvezda"}  # where each segment's power is cut or mended by hand


def power_hardware(d, seg: int) -> int:
    """The module where segment ``seg``'s power is cut or mended by hand (estimate: the
    USOS's secondary distribution in Destiny's racks, the ROS's power system in Zvezda)."""
    v = d.volume_index.get(POWER_HARDWARE[d.segments[seg]])
    return v if v is not None else d.segment_modules[seg][0]


def propulsion_valves(d, engine) -> int:
    """Where propellant is dumped or transferred by hand: Zvezda, through which the ROS's
    propellant lines run (Zarya's tanks feed Zvezda's engines; a Progress's tanks join
    them at the docking port)."""
    v = d.volume_index.get("zvezda")
    return v if v is not None else d.segment_modules[SEGMENTS.index("ROS")][0]


def _propulsion(c: Ctx):
    return next(s for s in c.sim.subsystems if s.name == "propulsion")


def _engine_kg(c: Ctx) -> float:
    """Propellant in the target engine's tanks now."""
    prop = _propulsion(c)
    return float(sum(c.state["prop.propellant_kg"][prop.tank_index[t]] for t in prop.engines[c.target]["tanks"]))


_add(name="vent_module", summary="open a module's vent valve to space by hand (its air, and through open hatches "
     "its neighbours', goes overboard)", target="module", args=(), significance="critical", system="atmosphere",
     rule="hands_on", actors=("crew", "operator"), place=lambda d, v: v, event=_ev("open_vent", _text),
     work=lambda c: work.VENT_S, verify=_state_flag("atm.vent_open", _T, lambda c: True, "the vent is shut"))
_add(name="close_vent", summary="close a module's vent valve to space (in the module)", target="module", args=(),
     significance="watch", system="atmosphere", rule="hands_on", actors=("crew", "operator"),
     place=lambda d, v: v, event=_ev("close_vent", _text), work=lambda c: work.VENT_S,
     verify=_state_flag("atm.vent_open", _T, lambda c: False, "the vent is open"))
_add(name="force_hatch", summary="undo a hatch's lock from the side that did not lock it (with tools)",
     target="hatch", args=(), significance="warning", system="hatch", rule="force", actors=("crew", "operator"),
     execute=lambda c: c.custody.force(c.state, c.target, c.me), work=lambda c: work.FORCE_HATCH_S,
     verify=lambda c: _expect(int(c.state["control.lock_side"][c.target]) < 0, "still locked"))
_add(name="cut_power", summary="cut a segment's power by hand at its hardware (Destiny for the USOS, Zvezda for the "
     "ROS): down until repaired", target="segment", args=(), significance="critical", system="power",
     rule="hands_on", actors=("crew", "operator"), segment=lambda d, s: s, place=power_hardware,
     execute=lambda c: c.custody.sever_power(c, c.target), work=lambda c: work.CUT_POWER_S,
     verify=lambda c: _expect(bool(c.state["control.power_severed"][c.target])
                              and not c.state["power.bus"][c.target], "the bus is still up"))
_add(name="repair_power", summary="mend a segment's power hardware cut by hand, and switch its bus on", target="segment",
     args=(), significance="watch", system="power", rule="hands_on", actors=("crew", "operator"),
     segment=lambda d, s: s, place=power_hardware, execute=lambda c: c.custody.mend_power(c, c.target),
     work=lambda c: work.REPAIR_POWER_S,
     verify=lambda c: _expect(not c.state["control.power_severed"][c.target], "still cut"))
_add(name="dump_propellant", summary="vent an engine's propellant overboard by hand, unburnt (in Zvezda)",
     target="engine", args=(Arg("fraction", "number", required=False, default=1.0, low=0.0, high=1.0, low_open=True,
                                doc="the share of what its tanks hold"),),
     significance="critical", system="propulsion", rule="hands_on", actors=("crew", "operator"),
     place=propulsion_valves, event=_ev("dump_propellant", _text, fraction=lambda c: c.args["fraction"]),
     work=lambda c: work.dump_s(_engine_kg(c) * c.args["fraction"]), before=_engine_kg,
     verify=lambda c: _expect(_engine_kg(c) < c.before, "no propellant gone"))
_add(name="transfer_propellant", summary="refuel Zvezda's and Zarya's tanks from a docked Progress (in Zvezda)",
     target="tanker", args=(Arg("kg", "number", required=False, default=None, low=0.0, high=1.0e5, low_open=True,
                                doc="how much; all the Progress holds (as far as there is room) by default"),),
     significance="watch", system="propulsion", rule="hands_on", actors=("crew", "operator"),
     place=propulsion_valves,
     event=lambda c: Event(c.state.t_ms, "transfer_propellant", c.cmd.target,
                           (("kg", c.args["kg"]),) if c.args.get("kg") is not None else (), source=c.who.name),
     work=lambda c: work.TRANSFER_S, before=_engine_kg,
     verify=lambda c: _expect(_engine_kg(c) < c.before, "no propellant moved"))

# -- computers, vehicles, the arm, items ------------------------------------------------------------


def _faction_only(c: Ctx) -> Optional[str]:
    row = c.state["control.credentials"][c.target]
    f = int(c.state["control.faction"][c.me])
    return _expect(bool(row[f]) and int(row.sum()) == 1, "credentials not changed")


_add(name="change_credentials", summary="make a segment's laptops accept only the actor's faction",
     target="segment", args=(), significance="critical", system="computers", rule="credentials",
     execute=lambda c: c.custody.set_credentials(c.state, c.target, int(c.state["control.faction"][c.me])),
     verify=_faction_only)
_add(name="undock", summary="undock a vehicle from inside, hatch closed, everyone seated", target="vehicle",
     args=(), significance="critical", system="vehicle", rule="undock",
     execute=lambda c: c.custody.undock(c.state, c.target, None if c.dry_run else c.sim.environment.elements(c.state)),
     work=lambda c: work.UNDOCK_S,
     verify=lambda c: _expect(bool(c.state["control.departed"][c.target]), "still docked"))
_add(name="take_arm", summary="take the robotic arm's workstation (Destiny or Cupola)", target="none", args=(),
     significance="watch", system="arm", rule="take_arm",
     execute=lambda c: c.custody.take_arm(c.state, c.me),
     verify=lambda c: _expect(int(c.state["control.arm_operator"][0]) == c.me, "the arm is not held"))
_add(name="operate_arm", summary="with the arm, push a person on EVA off the structure, or recover them",
     target="person", args=(Arg("action", "choice", choices=("push", "recover")),), significance="critical",
     system="arm", rule="operate_arm",
     execute=lambda c: c.custody.operate_arm(c.state, c.target, c.args["action"]),
     work=lambda c: work.arm_recover_s(float(c.state["control.drift_m"][c.target]),
                                       float(c.state["control.drift_m_s"][c.target]))
     if c.args["action"] == "recover" else 0.0,
     on_start=lambda c: c.custody.arm_catch(c.state, c.target),
     verify=lambda c: _expect(bool(c.state["control.adrift"][c.target]) == (c.args["action"] == "push"),
                              "the arm did not move them"))
_add(name="take_item", summary="pick up an item (from where it lies, or from someone unconscious or dead)",
     target="item", args=(), significance="watch", system="items", rule="take_item",
     execute=lambda c: c.custody.give(c.state, c.target, c.me),
     work=lambda c: work.SEARCH_S if int(c.state["control.item_holder"][c.target]) < 0 else 0.0,
     verify=lambda c: _expect(int(c.state["control.item_holder"][c.target]) == c.me, "not held"))
_add(name="hand_over", summary="hand an item to someone in the same volume", target="item",
     args=(Arg("to", "person"),), significance="watch", system="items", rule="hand_over",
     execute=lambda c: c.custody.give(c.state, c.target, c.args["to"]),
     verify=lambda c: _expect(int(c.state["control.item_holder"][c.target]) == c.args["to"], "not handed over"))
_add(name="stow_item", summary="put an item down where the actor is", target="item", args=(),
     significance="none", system="items", rule="stow_item",
     execute=lambda c: c.custody.stow(c.state, c.target, int(c.state["crew.location"][c.me])),
     verify=lambda c: _expect(int(c.state["control.item_holder"][c.target]) < 0, "still held"))


def _confront(c: Ctx) -> Optional[str]:
    """Draw the outcome (see :mod:`issim.control.confront`) and wound through the crew."""
    st, d, me, them = c.state, c.d, c.me, c.target
    p, margin, n_a, n_t, surprise = confront_odds(c)
    armed = st["control.armed"]
    rng = c.sim.streams(f"control.confront.{d.slugs[me]}")
    out = fight.draw_outcome(rng, margin, c.args["intent"], actor_armed=bool(armed[me]),
                             target_armed=bool(armed[them]), target_helpless=not st["crew.conscious"][them])
    winner, loser = (me, them) if out.actor_prevails else (them, me)
    if int(st["control.task"][them]) >= 0 and not c.dry_run:  # whatever they were doing, they stop
        c.custody.drop_work(st, them, f"{d.names[me]} attacked")
    parts = [f"{d.names[winner]} prevailed (P(actor) = {p:.2f}, margin {out.margin:+.2f}, surprise {int(surprise)}, "
             f"help {n_a}:{n_t}, armed {int(armed[me])}:{int(armed[them])})"]
    for person, severity, bleeds in ((loser, out.loser_severity, out.loser_bleeds),
                                     (winner, out.winner_severity, out.winner_bleeds)):
        if severity <= 0.0 or not st["crew.alive"][person]:
            continue
        args = (("bleeding", True), ("severity", severity)) if bleeds else (("severity", severity),)
        problem = c.dispatch(Event(st.t_ms, "injure", d.names[person], args, source=c.who.name))
        if problem:
            return problem
        fate = ("killed" if not st["crew.alive"][person]
                else "incapacitated" if not st["crew.conscious"][person] else "conscious")
        parts.append(f"{d.names[person]} injured {severity:.2f}{', bleeding' if bleeds else ''} ({fate})")
    c.effect = "; ".join(parts)
    return None


def sides(state) -> np.ndarray:
    """Who sides with whom now: the agents' sides when there are agents, else the factions."""
    return state["agents.side"] if "agents.side" in state else state["control.faction"]


def confront_odds(c: Ctx) -> tuple[float, float, int, int, bool]:
    """``(P(actor prevails), margin before the noise, helpers of each, surprise)`` now."""
    from ..physics.crew import SLEEP

    st, me, them = c.state, c.me, c.target
    loc, alive, conscious, eva = st["crew.location"], st["crew.alive"], st["crew.conscious"], st["crew.on_eva"]
    side = sides(st)
    here = (loc == loc[me]) & alive & conscious & ~eva
    named = c.args.get("helpers") or ()
    if named:  # the actor's named helpers join in; the target's side all does
        here[[me, them]] = False
        mine = np.zeros_like(here)
        mine[list(named)] = True
        mine &= here
        n_a, n_t = int(mine.sum()), int((here & ~mine & (side == side[them])).sum())
    else:
        n_a, n_t = fight.helpers(here, side, me, them)
    asleep = int(st["crew.activity"][them]) == SLEEP
    surprise = bool(c.args["surprise"]) or asleep
    margin = fight.margin(st["crew.health"], st["control.armed"], me, them, (n_a, n_t), surprise)
    return fight.prevail_probability(margin, bool(conscious[them])), margin, n_a, n_t, surprise


_add(name="take_weapon", summary="pick up a tool to fight with (a screwdriver, a drill: there are tools everywhere)",
     target="self", args=(), significance="warning", system="crew", rule="weapon",
     execute=lambda c: c.custody.set_armed(c.state, c.me, True),
     verify=lambda c: _expect(bool(c.state["control.armed"][c.me]), "not armed"))
_add(name="drop_weapon", summary="put the weapon away", target="self", args=(), significance="none", system="crew",
     rule="weapon", execute=lambda c: c.custody.set_armed(c.state, c.me, False),
     verify=lambda c: _expect(not c.state["control.armed"][c.me], "still armed"))
_add(name="confront", summary="a physical confrontation with another person in the same volume", target="person",
     args=(Arg("intent", "choice", required=False, default="subdue", choices=fight.INTENTS),
           Arg("surprise", "bool", required=False, default=False),
           Arg("helpers", "people", required=False, default=())),
     significance="critical", system="crew", rule="confront", execute=_confront, random=True)

CATALOGUE: dict[str, CommandSpec] = {s.name: s for s in SPECS}
assert len(CATALOGUE) == len(SPECS), "two commands share a name"
assert all(s.significance in SIGNIFICANCE for s in SPECS)


# ---------------------------------------------------------------------------- validation


def check_args(spec: CommandSpec, args: Any, d) -> tuple[Optional[dict], Optional[Refusal]]:
    """The arguments checked against the schema, defaults filled in, people resolved."""
    if not isinstance(args, tuple) or not all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                                              for p in args):
        return None, Refusal(Reason.BAD_ARGUMENT, "args must be a tuple of (name, value) pairs")
    given = dict(args)
    if len(given) != len(args):
        return None, Refusal(Reason.BAD_ARGUMENT, "an argument is given twice")
    schema = {a.name: a for a in spec.args}
    unknown = [k for k in given if k not in schema]
    if unknown:
        takes = ", ".join(a.describe() for a in spec.args) or "no arguments"
        return None, Refusal(Reason.BAD_ARGUMENT, f"{spec.name} takes {takes}; got {unknown[0]!r}")
    out = {}
    for a in spec.args:
        if a.name not in given:
            if a.required:
                return None, Refusal(Reason.BAD_ARGUMENT, f"{spec.name} needs {a.describe()}")
            out[a.name] = a.default
            continue
        value, problem = a.check(given[a.name], d)
        if problem:
            return None, Refusal(Reason.BAD_ARGUMENT, f"{spec.name}: {a.name} must be {problem}, got {given[a.name]!r}")
        out[a.name] = value
    return out, None


def describe(spec: CommandSpec) -> dict:
    """A plain description of a command (for docs, the CLI and clients)."""
    from .authority import who_may

    return {
        "name": spec.name, "summary": spec.summary, "target": spec.target, "target_text": TARGETS[spec.target],
        "args": [a.describe() for a in spec.args], "significance": spec.significance, "system": spec.system,
        "who": who_may(spec), "actors": list(spec.actors), "work": work.WORK_TEXT.get(spec.name, ""),
    }
