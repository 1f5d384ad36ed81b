"""One person's game: what they see, what they may do, time in turns or in real time.

A :class:`Game` stands on a :class:`~issim.runner.Runner` whose other people keep their
own policies (the crew mind). The player is a policy too: the commands they choose are
handed to the runner in the frame they were chosen in and go through the command
pipeline like anyone's, so a game is its seed, its start and the player's commands with
their times; :class:`~issim.runner.Played` replays it from those.

What the player is shown (:meth:`Game.view`) comes from their observation
(:class:`issim.sim.observe.Observation`) and nothing else of the state: their body, their
place and who is in sight there, the volumes they can see into, what the laptops in reach
show, the messages delivered to them. The station's layout (its modules and hatches) and
the channel dictionary are fixed facts anyone aboard knows. What they may do is the
action table of :mod:`issim.rl.actions` with its mask, and for each refused action the
authority stage's own reason.

Time runs in turns (:meth:`Game.advance`: to the next thing the player notices, or an
hour) or in scaled real time (:meth:`Game.run_for`). The game ends when the run does (its
end, the station lost, the story over), when the player dies or leaves the station (the
others then carry on until the story is over), or when the player quits.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Optional

from ..control.commands import Command
from ..errors import InputError
from ..rl.actions import ActionTable
from ..sim.observe import Observation
from ..times import format_iso

TURN_CAP_MS = 3_600_000  # a turn ends after an hour of simulated time if nothing happens
DEFAULT_START = {"iss": "+30h"}  # the first 30 h of iss are a quiet day aboard; the war is seen at +30 h
ENDED = {"over": "the run ended", "dead": "you died", "gone": "you left the station", "quit": "you ended the game"}


@dataclass(frozen=True)
class Choice:
    """One action of the table: its index, its label, and ``None`` if allowed now, else why not."""

    index: int
    label: str
    refused: Optional[str]


@dataclass(frozen=True)
class View:
    """What the player sees at one moment, as text: every field from their observation,
    the action mask and reasons, the station's fixed layout, or what they noticed."""

    person: str
    clock: str  # +30h 05m from the scenario's start
    utc: str
    where: str  # the module they are in (or "outside, on a spacewalk")
    segment: str
    body: tuple[str, ...]  # lines: health, conscious, bleeding, suit...
    in_sight: tuple[str, ...]  # "Kira Foster (harmony)"
    hatches: tuple[str, ...]  # the hatches of their module: "hatch to destiny: open" (closed: nothing seen past it)
    station: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (segment, ((volume id, mark), ...))
    laptops: tuple[str, ...]
    messages: tuple[str, ...]
    choices: tuple[Choice, ...]
    feed: tuple[str, ...]  # what they noticed, newest last
    over: bool = False
    ended: str = ""
    story: tuple[str, ...] = field(default=())
    ending: str = ""


class _Player:
    """The player's policy: the commands chosen since the last frame, returned once."""

    def __init__(self):
        self.cmds: list[Command] = []

    def decide(self, observation) -> list[Command]:
        cmds, self.cmds = self.cmds, []
        return cmds


def clock(ms: int) -> str:
    """``+30h 05m`` for an offset in milliseconds."""
    m = int(ms // 60_000)
    return f"+{m // 60}h {m % 60:02d}m"


class Game:
    """``person``'s game on ``runner`` from now on (see the module). ``runner`` should have
    been built with ``until_resolved=True`` so that the game ends when the story does."""

    def __init__(self, runner, person: str):
        self.runner = runner
        self.sim = sim = runner.sim
        if person not in sim.people:
            raise InputError("--as", f"no crew member {person!r}; the crew are {', '.join(sim.people)}")
        self.person = person
        self.index = sim.people.index(person)
        self.start_ms = int(sim.state.t_ms)
        o = Observation(sim, self.index)
        when = clock(self.start_ms - sim.start_ms)
        if not o.body.get("alive", True):
            raise InputError("--as", f"{person} is dead at {when}; start earlier (--start) or play someone else")
        if self._gone():
            raise InputError("--as", f"{person} has left the station by {when}; start earlier or play someone else")
        self.table = ActionTable(sim)
        self.policy = _Player()
        runner.assign(person, self.policy)
        self.commands: list[tuple[int, Command]] = []
        self.feed: list[str] = []
        self.refused: list[list] = []  # [t_ms, what, why]: attempts refused before the pipeline (issim serve)
        self.ended: Optional[str] = None
        self.run_id: Optional[int] = None
        self._limits = {c.key: (c.describe().get("name", c.key), c.describe().get("limits") or {})
                        for c in sim.channels()}
        self._sent: dict[int, str] = {}  # id(command) -> label, awaiting its result
        self._carry_ms = 0
        self._choices: Optional[tuple[int, tuple[Choice, ...]]] = None
        self._last = self._noticed(o)
        self.note(f"You are {person}, in {self._name(o.location)}. " + self._sight_text(o))
        self._check_end()

    # ------------------------------------------------------------------ what they know

    def observe(self) -> Observation:
        return Observation(self.sim, self.index)

    def _gone(self) -> bool:
        a = self.sim.state.arrays
        return bool(a["control.departed"][int(a["crew.location"][self.index])]) if "control.departed" in a else False

    def _name(self, volume_id: str) -> str:
        v = next((v for v in self.sim.world.volumes if v.id == volume_id), None)
        return v.name if v is not None else volume_id

    def _sight_text(self, o: Observation) -> str:
        if o.body.get("on_eva"):
            return "You are outside."
        seen = o.seen_at
        return ("You see " + ", ".join(f"{n} ({w})" for n, w in seen.items()) + ".") if seen else "You see no one."

    def alarms(self, o: Observation) -> dict[str, str]:
        """``{channel: "name high"}`` for the laptops' readings past a warning limit."""
        out = {}
        for seg, values in o.laptops.items():
            for key, value in values.items():
                name, lim = self._limits.get(key, (key, {}))
                hi = lim.get("danger_high") if value > lim.get("danger_high", float("inf")) else lim.get("warn_high")
                if lim.get("warn_high") is not None and value > lim["warn_high"]:
                    out[key] = f"{name} high ({value:.4g} > {hi:g})"
                elif lim.get("warn_low") is not None and value < lim["warn_low"]:
                    out[key] = f"{name} low ({value:.4g} < {lim['warn_low']:g})"
        return out

    def _noticed(self, o: Observation) -> dict:
        """What the player would notice changing: their observation, summed up."""
        b = o.body
        return {"where": o.location, "eva": bool(b.get("on_eva")), "seen": dict(o.seen_at),
                "messages": len(o.messages), "alive": bool(b.get("alive", True)),
                "conscious": bool(b.get("conscious", True)), "bleeding": bool(b.get("bleeding")),
                "health": float(b.get("health", 1.0)), "armed": bool(b.get("armed")), "adrift": bool(b.get("adrift")),
                "tethered": bool(b.get("tethered")), "alarms": self.alarms(o), "reach": o.laptop_segments}

    def _notice(self) -> int:
        """Compare what the player perceives now with before; note what changed. Returns how many notes."""
        o = self.observe()
        now, was = self._noticed(o), self._last
        self._last = now
        notes = []
        if now["alive"] != was["alive"]:
            notes.append("You died." if not now["alive"] else "You are alive.")
        if now["conscious"] != was["conscious"]:
            notes.append("You black out." if not now["conscious"] else "You come to.")
        if now["where"] != was["where"]:
            notes.append(f"You are in {self._name(now['where'])}.")
        if now["eva"] != was["eva"]:
            notes.append("You are outside, on a spacewalk." if now["eva"] else "You are back inside.")
        for n, w in now["seen"].items():
            if n not in was["seen"]:
                notes.append(f"{n} comes into sight ({w}).")
            elif was["seen"][n] != w and now["where"] == was["where"]:
                notes.append(f"{n} moves to {w}.")
        for n in was["seen"]:
            if n not in now["seen"]:
                notes.append(f"{n} is out of sight.")
        for m in o.messages[was["messages"]:]:
            notes.append(f"Message from {m['from']}: {m['text']}")
        for flag, on, off in (("bleeding", "You are bleeding.", "The bleeding has stopped."),
                              ("armed", "You hold a weapon.", "Your hands are empty."),
                              ("adrift", "You are adrift!", "You are no longer adrift."),
                              ("tethered", "Your tether is clipped.", "Your tether is unclipped.")):
            if now[flag] != was[flag]:
                notes.append(on if now[flag] else off)
        if now["health"] < was["health"] - 0.05:
            notes.append(f"You are hurt: health {now['health']:.0%}.")
        if now["reach"] != was["reach"]:
            notes.append("The laptops here answer you." if now["reach"] else "No laptop here answers you.")
        for key, text in now["alarms"].items():
            if key not in was["alarms"]:
                notes.append(f"Laptop alarm: {text}.")
        for n in notes:
            self.note(n)
        return len(notes)

    def note(self, text: str) -> None:
        self.feed.append(f"{clock(self.sim.state.t_ms - self.sim.start_ms)}  {text}")

    # ------------------------------------------------------------------ what they may do

    def choices(self) -> tuple[Choice, ...]:
        """Every action but ``wait``: the allowed ones first, then the refused ones with why."""
        t = self.sim.state.t_ms
        if self._choices is not None and self._choices[0] == t:
            return self._choices[1]
        reasons = self.table.reasons(self.table.situation(self.sim.state), self.index)
        allowed = [Choice(k, self.table[k].label, None) for k in range(1, len(self.table)) if reasons[k] is None]
        refused = [Choice(k, self.table[k].label, reasons[k]) for k in range(1, len(self.table))
                   if reasons[k] is not None]
        out = tuple(allowed + refused)
        self._choices = (t, out)
        return out

    def issue(self, k: int) -> None:
        """Give the command of action ``k`` now; it runs in the next frame, which is stepped."""
        if self.over:
            return
        act = self.table[k]
        if not act.command:
            self.step()
            return
        cmd = Command(act.command, self.person, act.target, act.args, source="cli")
        self.policy.cmds.append(cmd)
        self.commands.append((int(self.sim.state.t_ms), cmd))
        self._sent[id(cmd)] = act.label
        self.note(f"You: {act.label}")
        self.step()

    # ------------------------------------------------------------------ time

    def step(self) -> int:
        """One frame; returns how many things the player noticed."""
        if self.over:
            return 0
        out = self.sim.step(self.runner.actions())
        for r in out.commands:
            c = getattr(r, "command", None)
            label = self._sent.pop(id(c), None) if c is not None else None
            if label is not None:
                why = r.message or r.reason
                self.note(f"{label}: {r.result}" + (f" ({why})" if why and r.result != "done" else ""))
        n = self._notice()
        self._check_end()
        return n

    def advance(self, cap_ms: int = TURN_CAP_MS) -> int:
        """A turn: frames until the player notices something, the game ends, or ``cap_ms`` passes."""
        until = self.sim.state.t_ms + cap_ms
        while not self.over and self.sim.state.t_ms < until:
            if self.step():
                return 1
        if not self.over:
            self.note(f"Nothing you notice for {cap_ms // 60_000} min.")
        return 0

    def wait(self, ms: int = 60_000) -> None:
        """Let ``ms`` of simulated time pass (whole frames), noticing as they go."""
        until = self.sim.state.t_ms + ms
        while not self.over and self.sim.state.t_ms < until:
            self.step()

    def run_for(self, ms: float) -> None:
        """Scaled real time: ``ms`` of simulated time, the part short of a frame carried to the next call."""
        self._carry_ms += ms
        dt = self.sim.dt_ms
        while not self.over and self._carry_ms >= dt:
            self._carry_ms -= dt
            self.step()

    @property
    def over(self) -> bool:
        return self.ended is not None

    def _check_end(self) -> None:
        if self.over:
            return
        if self.runner.finished:
            self.ended = "over"
        elif not self._last["alive"]:
            self.ended = "dead"
        elif self._gone():
            self.ended = "gone"
        else:
            return
        if self.ended != "over":  # the others carry on until the story is over
            self.note("The others carry on without you...")
            self.runner.run()
        self.note(f"The end: {ENDED[self.ended]}.")

    def quit(self) -> None:
        """End the game here, by the player's choice (the run is stored up to now)."""
        if not self.over:
            self.ended = "quit"
            self.note(f"The end: {ENDED['quit']}.")

    # ------------------------------------------------------------------ the record

    def changes(self) -> dict:
        """What the archive keeps of the game (``changes`` of the stored run): the player, from
        when, how it ended and their commands with their times (:class:`issim.runner.Played`);
        for a game in the browser, the attempts refused before the pipeline (``refused``)."""
        player = {
            "person": self.person, "from": format_iso(self.start_ms), "ended": self.ended or "quit",
            "commands": [[t, c.name, c.target, [[k, list(v) if isinstance(v, tuple) else v] for k, v in c.args]]
                         for t, c in self.commands]}
        if self.refused:  # a game in the browser: the attempts refused before the pipeline, with why
            player["refused"] = self.refused
        return {"player": player}

    def outcome(self) -> dict:
        return self.runner.outcome()

    # ------------------------------------------------------------------ the view

    def view(self) -> View:
        """What the player sees now (see the module); with the story and ending once it is over."""
        sim, o = self.sim, self.observe()
        b = o.body
        eva = bool(b.get("on_eva"))
        body = [f"{'alive' if b.get('alive', True) else 'dead'}, {'conscious' if b.get('conscious', True) else 'unconscious'}"
                f", health {float(b.get('health', 1.0)):.0%}"]
        body += [text for flag, text in (("bleeding", "bleeding"), ("armed", "armed"), ("adrift", "ADRIFT"))
                 if b.get(flag)]
        if eva:
            body.append(f"in a suit: {float(b.get('suit_s', 0.0)) / 3600:.1f} h of suit left, "
                        f"tether {'clipped' if b.get('tethered') else 'unclipped'}")
        here = o.location
        in_view = set(o.volumes_in_sight)
        seen_at = o.seen_at
        vols = sim.world.volumes
        hatches = []
        if not eva:
            for link in sim.world.links:
                a, bb = vols[link.a].id, vols[link.b].id
                if here in (a, bb):
                    other = bb if a == here else a
                    hatches.append(f"hatch to {other}: {'open' if other in in_view else 'closed'}")
        station = []
        for seg in dict.fromkeys(v.segment for v in vols):
            rows = []
            for v in vols:
                if v.segment != seg:
                    continue
                people = [n for n, w in seen_at.items() if w == v.id]
                mark = "you" if v.id == here and not eva else ("seen" if v.id in in_view else "")
                if people:
                    mark = ", ".join(filter(None, [mark, *people]))
                rows.append((v.id, mark))
            station.append((seg, tuple(rows)))
        laptops = []
        for seg, values in o.laptops.items():
            def val(key, fmt, scale=1.0):
                v = values.get(key)
                return "?" if v is None else format(v * scale, fmt)
            laptops.append(f"{seg} laptop, {self._name(here)}: pressure {val(f'atm.{here}.pressure_pa', '.1f', 1e-3)} kPa,"
                           f" O2 {val(f'atm.{here}.pp_o2_pa', '.1f', 1e-3)} kPa, CO2 {val(f'atm.{here}.pp_co2_pa', '.0f')} Pa")
            laptops.append(f"power: battery {val(f'power.{seg}.soc', '.0%')}, load {val(f'power.{seg}.load_w', '.0f', 1e-3)} kW;"
                           f" ground contact {'yes' if values.get(f'comms.{seg}.contact') else 'no'};"
                           f" attitude {'held' if values.get('att.held') else 'NOT HELD'}")
        alarms = self.alarms(o)
        laptops += [f"ALARM {t}" for t in list(alarms.values())[:6]]
        if len(alarms) > 6:
            laptops.append(f"... and {len(alarms) - 6} more alarms")
        if not laptops:
            laptops = ["No laptop in reach answers you."]
        messages = tuple(f"{clock(m['t_ms'] - sim.start_ms)} from {m['from']}: {m['text']}" for m in o.messages[-6:])
        story, ending = (), ""
        if self.over:
            out = self.outcome()
            story = tuple(f"{clock(_ms(s['t']) - sim.start_ms)}  {s['kind']}: {s['who']}"
                          + (f" → {s['whom']}" if s.get("whom") else "") + (f" ({s['why']})" if s.get("why") else "")
                          for s in out.get("story", ()))
            cls = out.get("ending_class") or {}
            ending = f"{cls.get('label', '')}\n{out.get('ending', '')}".strip()
        return View(
            person=self.person, clock=clock(sim.state.t_ms - sim.start_ms), utc=format_iso(sim.state.t_ms, 0),
            where="outside, on a spacewalk" if eva else self._name(here), segment=o.segment, body=tuple(body),
            in_sight=tuple(f"{n} ({w})" for n, w in seen_at.items()), hatches=tuple(hatches), station=tuple(station),
            laptops=tuple(laptops), messages=messages, choices=() if self.over else self.choices(),
            feed=tuple(self.feed[-40:]), over=self.over, ended=ENDED.get(self.ended or "", ""), story=story,
            ending=ending)


def _ms(iso: str) -> int:
    from ..times import parse_iso

    return parse_iso(iso, "t")


def start_offset_ms(spec, start: Optional[str]) -> int:
    """``--start`` as milliseconds after the scenario's start (default :data:`DEFAULT_START`)."""
    from ..scenario.schema import parse_offset_ms

    text = start if start is not None else DEFAULT_START.get(spec.name, "+0h")
    try:
        ms = 0 if text.strip() in ("+0", "0", "+0h") else parse_offset_ms(text)
    except ValueError as exc:
        raise InputError("--start", str(exc)) from None
    if not 0 <= ms < spec.default_end_ms - spec.start_ms:
        raise InputError("--start", f"{text} is past the end of {spec.name} ({spec.scenario.days:g} days)")
    return ms


@contextmanager
def session(scenario, person: str, *, seed: Optional[int] = None, start: Optional[str] = None,
            archive=None, progress=None) -> Iterator[Game]:
    """A game recorded in the run archive: the run from the scenario's start to ``start``
    with everyone on the crew mind, then ``person`` played; on leaving normally the run is
    stored (its ``changes`` naming the player and their commands, :meth:`Game.changes`).
    ``archive`` is a folder or an :class:`~issim.archive.Archive` (default ``$ISSIM_HOME``,
    else ``./runs``). Bad input raises :class:`~issim.errors.InputError` before anything runs,
    except a person dead or gone by ``start``, found only there (the run is marked failed)."""
    from ..archive import Archive
    from ..runner import Runner
    from ..scenario import load_scenario
    from ..scenario.schema import Scenario

    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    crew = [c.name for c in spec.crew]
    if person not in crew:
        raise InputError("--as", f"no crew member {person!r}; the crew are {', '.join(crew)}")
    offset = start_offset_ms(spec, start)
    runner = Runner(spec, seed=seed, until_resolved=True)
    store = archive if isinstance(archive, Archive) else Archive.open(archive, create=True)
    with store.recording(runner) as rec:
        rec.run(runner.sim.start_ms + offset, progress=progress)
        game = Game(runner, person)
        game.run_id = rec.run_id
        yield game
        game.quit()  # no-op if it is over
        rec.set_changes(json.dumps(game.changes(), sort_keys=True))
