"""Communications: each segment's links to its own ground, and the messages they carry.

**Links** are data (``data/comms.toml``, every figure cited or labelled an estimate):

=============  =======  ===================================================  ==============
link           segment  targets                                              rate
=============  =======  ===================================================  ==============
usos-s-band    USOS     TDRS East, TDRS West, TDRS-Z (when scheduled)        not given
usos-ku-band   USOS     TDRS East, TDRS West, TDRS-Z (when scheduled)        600 Mbps (§7)
ros-regul      ROS      Shchyolkovo, Ussuriysk (5° mask, estimate); Luch     not given
ros-lira       ROS      Luch-5A, 5B, 5V                                      105 Mbps (§7)
=============  =======  ===================================================  ==============

A link is up in a frame when its antenna works (not cut), its segment's power bus is
up, and at least one of its targets serves it: a relay that is scheduled and in sight
of the station with its own ground terminal seeing it (``Env.relay_clearance_km > 0``,
computed ahead from the orbit), or a ground site above the link's elevation mask
(``Env.site_elevation_deg``). A segment is *in contact* with its ground while any of
its links is up. The Indian-Ocean zone of exclusion of the US segment is not written
anywhere: it falls out of the geometry of TDRS East and West seen from White Sands.
A link draws its ``power_w`` (estimates) while it works and its bus is up, in contact or
not (``comms.power_w``, ``comms.segment_power_w``); the power model may count it.

**Coverage** over a week from the nominal start (2025-03-10, 10 s frames, measured with
this module; the geometry computed directly agrees to within a frame per contact):
the US segment ≈ 92.2 % (the sheet: at least 85 %, NSSDC), 100 % with TDRS-Z scheduled;
the Russian segment through its ground stations alone (Shchyolkovo and Ussuriysk above
5°) ≈ 5.4 %, and with the Luch relays ≈ 66 %. The three Luch relays (110-130° apart, each
seen by its terminal) would see the station all the time, but Roscosmos gives "two
sessions of about 30 min per ~92-min orbit" (July 2020, the sheet): a relay network with
``[[sessions]]`` in ``ground.toml`` serves only inside them, spread evenly over each orbit
from the run's start (their timing is an estimate). Running totals
``comms.usos_contact_s`` and ``comms.ros_contact_s``; :meth:`Comms.summary` gives the
fractions of the run.

**Messages** go between the ground (``houston`` or ``moscow``) and the crew (a segment,
``USOS`` or ``ROS``, or a person by name). The two control centres are joined on the
ground, so a message travels on the links of the segment where its crew end is: the
named segment, or the segment of the module the person is in now (a person on EVA: the
segment of the airlock they went out from). It waits in a queue until that segment is
in contact and not blocked, and, for a person on EVA, their suit radio works; then it is
delivered and logged (``state.record("comms", what="delivered", delay_s=...)``, the delay
from sending to delivery in seconds). A message between two crew members, or between
the two grounds, is not a communications matter and is refused.

*Suit radios* are kept simple: a person on EVA (``crew.on_eva``) talks to the station
through the radio of the segment they went out from, so they reach the ground while that
segment is in contact (which needs its bus) and their suit radio works;
``cut_suit_radio`` silences one (``restore_suit_radio`` mends it). Messages aboard,
between people, are not modelled.

Events: ``cut_link`` / ``restore_link`` (target a link id: an antenna cut, a cable
pulled), ``schedule_relay`` / ``unschedule_relay`` (target a relay id of
``data/ground.toml``, e.g. ``tdrs-z``), ``send_message`` (args ``from``, ``to``,
``text``, optional ``id``), ``block_messages`` / ``unblock_messages`` (target a segment:
someone aboard stops messages of that segment getting through; they wait),
``cut_suit_radio`` / ``restore_suit_radio`` (target a person).

State: ``comms.link_ok`` and ``comms.link_up`` (links,) bool; ``comms.relay_scheduled``
(relays of ``ground.toml``,) bool; ``comms.contact`` and ``comms.blocked`` (segments,)
bool; ``comms.suit_radio_ok`` (people,) bool; ``comms.power_w`` (links,) and
``comms.segment_power_w`` (segments,) W; ``comms.messages`` (3,) int: queued,
delivered, sent. The queue itself is ``state.facts["comms.queue"]``, a tuple of
``(id, from, to, text, sent_ms, segment, person)`` tuples (``segment`` and ``person``
are indices, -1 where the crew end is not of that kind), so it copies with a snapshot
and compares equal after a restore. Delivered messages are kept in
``state.facts["comms.delivered"]``: ``(t_ms, id, from, to, text, heard by)``, ``heard by``
the names of the people it reached (what :meth:`Simulation.observe` shows each person).

Left out: the ROS's paid use of TDRS, Russian VHF voice, UHF and ARISS, the S-band low
data rate mode and string redundancy, link data rates in use (messages have no size),
pointing and blockage of antennas by the station's own structure, and the ground lines
between White Sands, Houston and Moscow.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..inputs import bundled_toml
from ..sim.events import Event
from ..sim.state import State
from ..sim.schema import Key, Schema, fact
from ..sim.subsystem import Subsystem
from ..sim.telemetry import Channel
from ..sim.world import SEGMENTS, World
from .crew import channel_slug

KINDS = ("s-band", "ku-band", "regul", "lira")
GROUNDS = {"houston": "USOS", "moscow": "ROS"}  # control centre -> the segment it flies
MESSAGE_ARGS = ("from", "to", "text", "id")
_EVENTS = (
    "cut_link", "restore_link", "schedule_relay", "unschedule_relay", "send_message",
    "block_messages", "unblock_messages", "cut_suit_radio", "restore_suit_radio",
)
_QUEUED, _DELIVERED, _SENT = range(3)


# ---------------------------------------------------------------------------- data


@dataclass(frozen=True)
class LinkSpec:
    """One link of a segment to its ground (see ``data/comms.toml``).

    ``targets`` are relay or ground-site ids of ``data/ground.toml``;
    ``min_elevation_deg`` is the mask for the site targets (degrees above the local
    horizon); ``rate_mbps`` is ``None`` where no figure was found; ``power_w`` the draw
    while the link works and its bus is up.
    """

    id: str
    name: str
    segment: str
    kind: str
    targets: tuple[str, ...]
    power_w: float
    antenna: str = ""
    min_elevation_deg: Optional[float] = None
    rate_mbps: Optional[float] = None


@dataclass(frozen=True)
class CommsConfig:
    links: tuple[LinkSpec, ...]
    sources: dict = field(default_factory=dict)


_LINK_FIELDS = set(LinkSpec.__dataclass_fields__)
_FIGURES = {"power_w": "power", "min_elevation_deg": "min_elevation", "rate_mbps": "rate"}


def load_comms_config(text: Optional[str] = None) -> CommsConfig:
    """Read ``data/comms.toml`` (or the given TOML text) into a :class:`CommsConfig`.

    Raises ``ValueError`` naming the link and field of anything that does not fit: an
    unknown field or target, a figure without a source, an estimate without its basis.
    """
    from ..orbit import ground_network

    raw = bundled_toml("comms.toml") if text is None else tomllib.loads(text)
    sources = dict(raw.get("sources", {}))
    net = ground_network()
    sites, relays = {s.id for s in net.sites}, {r.id for r in net.relays}
    links = []
    for i, row in enumerate(raw.get("links", [])):
        where = f"comms.toml links[{i}] ({row.get('id', '?')})"
        unknown = [k for k in row if k not in _LINK_FIELDS and not k.endswith(("_src", "_note"))]
        if unknown:
            raise ValueError(f"{where}: unknown field {unknown[0]!r}; fields are {', '.join(sorted(_LINK_FIELDS))}")
        missing = [k for k in ("id", "name", "segment", "kind", "targets", "power_w") if k not in row]
        if missing:
            raise ValueError(f"{where}: missing field {missing[0]!r}")
        for figure, prefix in _FIGURES.items():
            if figure not in row:
                continue
            src = row.get(f"{prefix}_src")
            if not src:
                raise ValueError(f"{where}: {figure} needs {prefix}_src (source keys, or 'estimate')")
            bad = [k for k in src if k not in sources]
            if bad:
                raise ValueError(f"{where}: source {bad[0]!r} of {figure} is not in [sources]")
            if "estimate" in src and not str(row.get(f"{prefix}_note", "")).startswith("estimate:"):
                raise ValueError(
                    f"{where}: {figure} is an estimate; {prefix}_note must start with 'estimate:' and give the basis"
                )
        link = LinkSpec(**{k: (tuple(v) if k == "targets" else v) for k, v in row.items() if k in _LINK_FIELDS})
        if link.segment not in SEGMENTS:
            raise ValueError(f"{where}: segment {link.segment!r} is not one of {', '.join(SEGMENTS)}")
        if link.kind not in KINDS:
            raise ValueError(f"{where}: kind {link.kind!r} is not one of {', '.join(KINDS)}")
        if not link.targets:
            raise ValueError(f"{where}: targets is empty")
        for t in link.targets:
            if t not in sites and t not in relays:
                raise ValueError(f"{where}: target {t!r} is neither a site nor a relay of ground.toml")
        if any(t in sites for t in link.targets) and link.min_elevation_deg is None:
            raise ValueError(f"{where}: a link to ground sites needs min_elevation_deg")
        links.append(link)
    ids = [l.id for l in links]
    if len(set(ids)) != len(ids):
        raise ValueError("comms.toml: two links share an id")
    return CommsConfig(tuple(links), sources)


# ---------------------------------------------------------------------------- subsystem


class Comms(Subsystem):
    """Each segment's links to its ground, coverage, and the message queue (see the module)."""

    name = "comms"
    events = _EVENTS
    event_args = {"send_message": MESSAGE_ARGS}

    def __init__(self, world: World, config: Optional[CommsConfig] = None):
        from ..orbit import ground_network

        self.world = world
        self.config = cfg = config or load_comms_config()
        self.links = cfg.links
        self.link_index = {l.id: i for i, l in enumerate(self.links)}
        net = ground_network()
        # The order of Environment.sites / Environment.relays (both read ground.toml).
        self.sites = tuple(s.id for s in net.sites)
        self.relays = tuple(r.id for r in net.relays)
        self.relay_index = {r: i for i, r in enumerate(self.relays)}
        self.relay_in_service = np.array([r.in_service for r in net.relays], dtype=bool)
        # Relays that serve only in scheduled sessions: (sessions per orbit, fraction of the
        # orbit each lasts, which relays).
        self.session_plans = tuple(
            (plan.per_orbit, plan.minutes, np.array([r.network == plan.network for r in net.relays]))
            for plan in net.sessions)
        n = len(self.links)
        self.link_seg = np.array([SEGMENTS.index(l.segment) for l in self.links], dtype=np.int64)
        self.seg_links = np.zeros((len(SEGMENTS), n), dtype=bool)  # segment x link
        self.seg_links[self.link_seg, np.arange(n)] = True
        # Site targets: only the sites some link uses, with each link's mask (+inf: not a target).
        used = sorted({self.sites.index(t) for l in self.links for t in l.targets if t in self.sites})
        self.site_cols = np.array(used, dtype=np.int64)
        self.site_mask_deg = np.full((n, len(used)), np.inf)
        self.relay_targets = np.zeros((n, len(self.relays)), dtype=bool)  # link x relay
        for i, l in enumerate(self.links):
            for t in l.targets:
                if t in self.relay_index:
                    self.relay_targets[i, self.relay_index[t]] = True
                else:
                    self.site_mask_deg[i, used.index(self.sites.index(t))] = l.min_elevation_deg
        self.has_sites = len(used) > 0
        self._kernel = None  # the compiled links' frame, bound at the first frame
        self._every_relay = np.ones(len(self.relays), dtype=bool)
        self._outside_session = tuple(~relays for _, _, relays in self.session_plans)
        self.power_full_w = np.array([l.power_w for l in self.links])
        self.segment_of_volume = np.array([SEGMENTS.index(v.segment) for v in world.volumes], dtype=np.int64)
        self.n_volumes = len(world.volumes)
        self.names: tuple[str, ...] = ()
        self.slugs: tuple[str, ...] = ()

    # ------------------------------------------------------------------ contract

    def schema(self) -> Schema:
        links, segs, people = ("comms_links",), ("segments",), ("people",)
        return Schema(
            owns=(
                Key("comms.link_ok", links, "bool", "1", "each space-ground link working (not cut)"),
                Key("comms.link_up", links, "bool", "1", "each link passing traffic now"),
                Key("comms.relay_scheduled", ("relays",), "bool", "1", "each relay satellite scheduled for the station"),
                Key("comms.contact", segs, "bool", "1", "each segment in contact with its ground"),
                Key("comms.blocked", segs, "bool", "1", "each segment's traffic blocked aboard"),
                Key("comms.suit_radio_ok", people, "bool", "1", "each person's suit radio working"),
                Key("comms.power_w", links, "float64", "W", "power each link draws"),
                Key("comms.segment_power_w", segs, "float64", "W", "comms load on each segment"),
                Key("comms.messages", (3,), "int64", "1", "messages delivered, lost, sent"),
                Key("comms.recheck", (1,), "bool", "1", "the message queue needs another look"),
                Key("comms.crew_seen", people, "int64", "1", "where each person was when the queue was last checked"),
                fact("comms.queue", "tuple", "messages waiting: (id, from, to, text, sent_ms)"),
                fact("comms.delivered", "tuple", "messages delivered: (t_ms, id, from, to, text, heard by)"),
                fact("comms.start_ms", "int", "when the run started, for contact fractions"),
            ),
            reads=("power.bus", "crew.location", "crew.on_eva", "crew.names"),
            dims={"comms_links": len(self.links), "relays": len(self.relays), "segments": len(SEGMENTS),
                  "people": len(self.names)},
        )

    def reset(self, state: State, world, streams) -> None:
        # Who is aboard is configuration of the run (the crew publish their names).
        self.names = tuple(state.facts.get("crew.names", ()))
        self.slugs = tuple(channel_slug(n) for n in self.names)
        n, s = len(self.links), len(SEGMENTS)
        state["comms.link_ok"] = np.ones(n, dtype=bool)
        state["comms.link_up"] = np.zeros(n, dtype=bool)
        state["comms.relay_scheduled"] = self.relay_in_service.copy()
        state["comms.contact"] = np.zeros(s, dtype=bool)
        state["comms.blocked"] = np.zeros(s, dtype=bool)
        state["comms.suit_radio_ok"] = np.ones(len(self.names), dtype=bool)
        state["comms.power_w"] = np.zeros(n)
        state["comms.segment_power_w"] = np.zeros(s)
        state["comms.messages"] = np.zeros(3, dtype=np.int64)
        state["comms.recheck"] = np.zeros(1, dtype=bool)
        state["comms.crew_seen"] = np.full(len(self.names), -1, dtype=np.int64)
        state.facts["comms.queue"] = ()
        state.facts["comms.delivered"] = ()
        state.facts["comms.start_ms"] = int(state.t_ms)
        for seg in SEGMENTS:
            state.totals[_contact_key(seg)] = 0.0

    def update(self, state: State, env, dt_s: float) -> None:
        """The frame of :meth:`update_reference`, its links computed by a compiled kernel
        (:mod:`issim.physics.comms_kernel`); sessions, totals and messages as there."""
        if self._kernel is None:
            self._bind_kernel()
        a = state.arrays
        contact = a["comms.contact"]
        changed = self._kernel(a["comms.link_ok"], a["power.bus"], env.relay_clearance_km, a["comms.relay_scheduled"],
                               self._allowed(state, env), env.site_elevation_deg, a["comms.link_up"], contact,
                               a["comms.power_w"], a["comms.segment_power_w"], *self._packed)
        self._settle(state, contact, changed, dt_s)

    def _bind_kernel(self) -> None:
        """The compiled links' frame and its tables packed once (at the first frame, so that a
        build does not import numba)."""
        from ..sim.kernels import kernel
        from .kernel_args import pack_links

        self._kernel = kernel("links_frame")
        self._packed = pack_links(self.link_seg, self.relay_targets, self.site_cols, self.site_mask_deg,
                                  self.power_full_w)

    def session_clock(self, elements) -> tuple[bool, float]:
        """``(whether relay sessions hold relays back, the orbit's period in ms)``: they do for
        a run with an orbit and session plans (else ``(False, 0.0)``); a session's phase is
        the time since ``comms.start_ms`` modulo that period."""
        if self.session_plans and elements is not None:
            return True, elements.period_min * 60_000.0
        return False, 0.0

    def _allowed(self, state: State, env):
        """The relays not held back by their sessions now (:meth:`_in_session` of each plan,
        its numbers worked out once). Copied, compiled, in :mod:`issim.physics.frame_kernel`:
        change both."""
        allowed = self._every_relay
        in_sessions, period_ms = self.session_clock(env.elements)
        if in_sessions:
            since = (state.t_ms - state.facts["comms.start_ms"]) % period_ms
            for k, (per_orbit, minutes, relays) in enumerate(self.session_plans):
                if not since % (period_ms / per_orbit) < minutes * 60_000.0:
                    allowed = allowed & self._outside_session[k]
        return allowed

    def _settle(self, state: State, contact, changed: bool, dt_s: float) -> None:
        """After the links: contact time, and the messages waiting (the same for both frames)."""
        a = state.arrays
        totals = state.totals
        if contact[0]:
            totals["comms.usos_contact_s"] += dt_s
        if contact[1]:
            totals["comms.ros_contact_s"] += dt_s
        if state.facts["comms.queue"]:
            # Messages are looked at only when something that decides their fate changed.
            if changed or a["comms.recheck"][0] or self._crew_moved(state):
                self._deliver(state)
        elif a["comms.recheck"][0]:
            a["comms.recheck"][0] = False

    def update_reference(self, state: State, env, dt_s: float) -> None:
        """The frame in numpy, as the model reads: the compiled kernel
        (:mod:`issim.physics.comms_kernel`, run by :meth:`update`) must agree with it."""
        a = state.arrays
        ok = a["comms.link_ok"] & a["power.bus"][self.link_seg]
        relay_ok = (env.relay_clearance_km > 0.0) & a["comms.relay_scheduled"]
        for per_orbit, minutes, relays in self.session_plans:
            if not self._in_session(state, env, per_orbit, minutes):
                relay_ok = relay_ok & ~relays
        served = (self.relay_targets & relay_ok).any(axis=1)
        if self.has_sites:
            served |= (env.site_elevation_deg[self.site_cols] >= self.site_mask_deg).any(axis=1)
        up = served & ok
        contact = (self.seg_links & up).any(axis=1)
        was = a["comms.contact"]
        changed = bool((contact != was).any())
        a["comms.link_up"] = up
        a["comms.contact"] = contact
        power = self.power_full_w * ok
        a["comms.power_w"] = power
        a["comms.segment_power_w"] = self.seg_links @ power
        self._settle(state, contact, changed, dt_s)

    @staticmethod
    def _in_session(state: State, env, per_orbit: int, minutes: float) -> bool:
        """Whether a session is open now: ``per_orbit`` sessions of ``minutes`` spread evenly
        over each orbit, counted from the run's start (the sheet gives no timing: estimate)."""
        if env.elements is None:
            return True
        period_ms = env.elements.period_min * 60_000.0
        slot_ms = period_ms / per_orbit
        return ((state.t_ms - state.facts["comms.start_ms"]) % period_ms) % slot_ms < minutes * 60_000.0

    def validate(self, event: Event) -> Optional[str]:
        kind, target = event.kind, event.target
        if kind in ("cut_link", "restore_link"):
            if target not in self.link_index:
                return f"no link {target!r}; links are {', '.join(self.link_index)}"
        elif kind in ("schedule_relay", "unschedule_relay"):
            if target not in self.relay_index:
                return f"no relay {target!r}; relays are {', '.join(self.relays)}"
        elif kind in ("block_messages", "unblock_messages"):
            if target not in SEGMENTS:
                return f"no segment {target!r}; segments are {', '.join(SEGMENTS)}"
        elif kind in ("cut_suit_radio", "restore_suit_radio"):
            if self._person(target) is None:
                return f"no crew member {target!r}; the crew are {', '.join(self.names) or 'nobody'}"
        elif kind == "send_message":
            return self._message_problem(event)
        else:
            return f"comms does not handle {kind!r}"
        return None

    def handle(self, state: State, event: Event) -> Optional[str]:
        problem = self.validate(event)
        if problem:
            return problem
        kind, target, a = event.kind, event.target, state.arrays
        if kind in ("cut_link", "restore_link"):
            i = self.link_index[target]
            working = kind == "restore_link"
            if bool(a["comms.link_ok"][i]) == working:
                return f"link {target} is already {'working' if working else 'cut'}"
            a["comms.link_ok"][i] = working
        elif kind in ("schedule_relay", "unschedule_relay"):
            i = self.relay_index[target]
            on = kind == "schedule_relay"
            if bool(a["comms.relay_scheduled"][i]) == on:
                return f"relay {target} is already {'scheduled' if on else 'unscheduled'}"
            a["comms.relay_scheduled"][i] = on
        elif kind in ("block_messages", "unblock_messages"):
            s = SEGMENTS.index(target)
            on = kind == "block_messages"
            if bool(a["comms.blocked"][s]) == on:
                return f"messages of the {target} are already {'blocked' if on else 'getting through'}"
            a["comms.blocked"][s] = on
            a["comms.recheck"][0] = True
        elif kind in ("cut_suit_radio", "restore_suit_radio"):
            p = self._person(target)
            on = kind == "restore_suit_radio"
            if bool(a["comms.suit_radio_ok"][p]) == on:
                return f"{self.names[p]}'s suit radio is already {'working' if on else 'cut'}"
            a["comms.suit_radio_ok"][p] = on
            a["comms.recheck"][0] = True
        else:
            return self._queue_message(state, event)
        return None

    def channels(self) -> list[Channel]:
        out = []
        for s, seg in enumerate(SEGMENTS):
            out += [
                Channel(f"comms.{seg}.contact", f"{seg} in contact with its ground (any link up)", "1",
                        "comms.contact", (s,), source="geometry of data/ground.toml; links of data/comms.toml"),
                Channel(f"comms.{seg}.power_w", f"{seg} communications electrical load", "W",
                        "comms.segment_power_w", (s,), source="comms.toml power_src (estimates)"),
            ]
        for i, l in enumerate(self.links):
            out.append(Channel(f"comms.{l.id}.up", f"{l.name}: link up", "1", "comms.link_up", (i,),
                               source="comms.toml targets_src"))
        out += [
            Channel("comms.queued", "Messages waiting for contact", "1", "comms.messages", (_QUEUED,)),
            Channel("comms.delivered", "Messages delivered", "1", "comms.messages", (_DELIVERED,)),
        ]
        return out

    # ------------------------------------------------------------------ reading

    def summary(self, state: State) -> dict:
        """Coverage of the run so far and the message counts, as plain values.

        ``usos_coverage`` and ``ros_coverage`` are fractions of the run time in contact
        (frames in contact times the frame length, over the time run).
        """
        run_s = (state.t_ms - state.facts["comms.start_ms"]) / 1000.0
        out: dict = {}
        for seg in SEGMENTS:
            contact_s = state.totals[_contact_key(seg)]
            out[f"{seg.lower()}_coverage"] = round(contact_s / run_s, 6) if run_s > 0 else 0.0
            out[f"{seg.lower()}_contact_s"] = round(contact_s, 3)
        m = state["comms.messages"]
        out.update(
            run_s=round(run_s, 3),
            messages_sent=int(m[_SENT]),
            messages_delivered=int(m[_DELIVERED]),
            messages_queued=int(m[_QUEUED]),
            links_cut=[l.id for i, l in enumerate(self.links) if not state["comms.link_ok"][i]],
            relays_scheduled=[r for i, r in enumerate(self.relays) if state["comms.relay_scheduled"][i]],
        )
        return out

    def queue(self, state: State) -> list[dict]:
        """The messages waiting, oldest first, as JSON-ready records."""
        return [
            {"id": m[0], "from": m[1], "to": m[2], "text": m[3], "sent_ms": m[4]} for m in state.facts["comms.queue"]
        ]

    # ------------------------------------------------------------------ helpers

    def _person(self, target) -> Optional[int]:
        for i, (name, slug) in enumerate(zip(self.names, self.slugs)):
            if target == name or target == slug:
                return i
        return None

    def _end(self, who) -> Optional[tuple]:
        """``("ground", name)``, ``("segment", index)``, ``("person", index)`` or ``None``."""
        if not isinstance(who, str):
            return None
        if who.lower() in GROUNDS:
            return ("ground", who.lower())
        if who in SEGMENTS:
            return ("segment", SEGMENTS.index(who))
        p = self._person(who)
        return None if p is None else ("person", p)

    def _message_problem(self, event: Event) -> Optional[str]:
        unknown = [k for k, _ in event.args if k not in MESSAGE_ARGS]
        if unknown:
            return f"send_message takes args {', '.join(MESSAGE_ARGS)}; got {unknown[0]!r}"
        choices = f"{', '.join(GROUNDS)}, {', '.join(SEGMENTS)} or a crew member ({', '.join(self.names) or 'nobody'})"
        ends = []
        for arg in ("from", "to"):
            who = event.arg(arg)
            end = self._end(who)
            if end is None:
                return f"send_message needs args.{arg}: {choices}; got {who!r}"
            ends.append(end)
        if (ends[0][0] == "ground") == (ends[1][0] == "ground"):
            return (
                f"a message goes between the ground ({', '.join(GROUNDS)}) and the crew (a segment or a person); "
                f"got from {event.arg('from')!r} to {event.arg('to')!r}"
            )
        text = event.arg("text")
        if not isinstance(text, str) or not text.strip():
            return f"send_message needs args.text, the message (non-empty text); got {text!r}"
        mid = event.arg("id")
        if mid is not None and (not isinstance(mid, str) or not mid):
            return f"send_message args.id must be non-empty text; got {mid!r}"
        return None

    def _queue_message(self, state: State, event: Event) -> Optional[str]:
        a = state.arrays
        crew_end = self._end(event.arg("to"))
        if crew_end[0] == "ground":
            crew_end = self._end(event.arg("from"))
        counts = a["comms.messages"]
        mid = event.arg("id") or f"msg-{int(counts[_SENT]) + 1}"
        queue = state.facts["comms.queue"]
        if any(m[0] == mid for m in queue):
            return f"a message with id {mid!r} is already waiting"
        seg, person = (crew_end[1], -1) if crew_end[0] == "segment" else (-1, crew_end[1])
        msg = (mid, str(event.arg("from")), str(event.arg("to")), event.arg("text"), int(event.t_ms), seg, person)
        state.facts["comms.queue"] = queue + (msg,)
        counts[_SENT] += 1
        counts[_QUEUED] += 1
        a["comms.recheck"][0] = True
        return None

    def _crew_seen(self, state: State) -> np.ndarray:
        return state["crew.location"] + self.n_volumes * state["crew.on_eva"]

    def _crew_moved(self, state: State) -> bool:
        """Whether anyone moved or went out or in since the queue was last looked at."""
        if not self.names:
            return False
        return bool((self._crew_seen(state) != state["comms.crew_seen"]).any())

    def _deliver(self, state: State) -> None:
        """Deliver every waiting message whose segment is in contact now; keep the rest."""
        a = state.arrays
        a["comms.recheck"][0] = False
        open_ = a["comms.contact"] & ~a["comms.blocked"]
        if self.names:
            a["comms.crew_seen"][:] = self._crew_seen(state)
            loc, eva, radio = a["crew.location"], a["crew.on_eva"], a["comms.suit_radio_ok"]
        keep = []
        counts = a["comms.messages"]
        for msg in state.facts["comms.queue"]:
            mid, frm, to, text, sent_ms, seg, person = msg
            if person >= 0:
                seg = int(self.segment_of_volume[loc[person]])
                if eva[person] and not radio[person]:
                    keep.append(msg)
                    continue
            if not open_[seg]:
                keep.append(msg)
                continue
            counts[_DELIVERED] += 1
            counts[_QUEUED] -= 1
            if person >= 0:
                heard = (self.names[person],)
            else:
                heard = tuple(n for i, n in enumerate(self.names) if self.segment_of_volume[loc[i]] == seg
                              and not (eva[i] and not radio[i]))
            state.facts["comms.delivered"] += ((state.t_ms, mid, frm, to, text, heard),)
            state.record(
                "comms", what="delivered", id=mid, text=text, segment=SEGMENTS[seg],
                delay_s=(state.t_ms - sent_ms) / 1000.0, **{"from": frm, "to": to},
            )
        state.facts["comms.queue"] = tuple(keep)


def _contact_key(segment: str) -> str:
    return f"comms.{segment.lower()}_contact_s"
