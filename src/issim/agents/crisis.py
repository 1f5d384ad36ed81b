"""The crisis: the film's decision points D3-D13 as situations the agents run into.

Each decision point is met when the station comes to it, not at a scripted time: the
lure is made because a commander complied by that means; the spacewalk because the lure
was believed; the arm strike because someone is outside, unclipped; a defection because
someone the defector loves was lost; and so on. The person concerned then decides (the
scenario's fixed choice, or a draw from their own stream with odds from their traits; see
:mod:`issim.agents.decisions`), and the choice gives people *intentions*. An intention is
a short plan that this module turns, at each of the person's decision times, into the
next command (move, open a hatch, take the arm, unclip, confront, take the research,
board, undock...); the agent dry-runs it and submits it through the pipeline like any
other command. What comes of it (a fight's wounds, a suit running out, a bleeding wound,
a hatch that will not open) is the station's and the physics' doing.

The situations, in the order the film meets them (``film-scenario.md`` §2, §4):

- **The lure** (``d2_means = lure``, or ``d1_means`` for the other side): the commander
  who complied says an antenna needs a spacewalk and asks the other side's commander to
  go. Speech aboard is belief, not a command.
- **D3** (the one asked): ``go`` (out, and unclipped at the antenna), ``tethered`` (out,
  clipped on), ``refuse``, ``send-other`` (the next of their side goes, unclipped).
- **D4** (the lurer's ally, once someone is outside): ``cut`` the suit radio, ``refuse``,
  or ``warn`` the person outside (who clips on and comes back in).
- **D5** (the lurer, as soon as the one asked agrees to go out): ``strike`` with the arm
  (take a workstation while the suit is made ready, as an EVA's arm support would, and
  push when the person is out and unclipped), ``strand`` (lock them into the airlock once
  they are out), ``hold-back``.
- **Someone lost** (pushed off with their suit radio cut, or silent): their side is
  uneasy (suspicion +0.4, short of locking anything) and gathers around its first member.
- **D6** (whoever loves the lost person, on the other side, ``bond``): ``defect`` (join
  the lost person's side and go to tell their ``confidant``) or stay ``loyal``.
- **D7** (the confidant, told): ``trust`` (go and take the scenario's ``prize``, the
  research, wherever it lies), ``refuse``, ``neutral``.
- **D8** (someone of the confidant's side who finds the defector among them): ``kill``
  or ``restrain``.
- **Escalation** (not a choice): a commander who has already struck and then loses one
  of his own to the other side hunts the other side, attacking whoever he can beat for
  sure (a margin of 0.3 or more before the noise) and waiting otherwise.
- **D9** (the lurer's ally, when that happens and the lost person is still alive out
  there): ``save`` (take the arm, recover them, then join the confidant),
  ``leave`` (join the hunt), ``stand-aside``.
- **D10** (the rescued person, back inside, their ``bond`` dead): ``attack`` the one who
  struck them, ``detain`` (subdue), ``stand-down``.
- **D11** (the confidant's other side-mate, inside, once no one hostile is left up and
  about, the prize is in hand, and blood has been shed or the station is mended or the
  confidant means to leave; D13 waits for it): ``betray`` (sabotage the CO2 removal and
  O2 generation, take the prize from whoever holds it, leave alone in the vehicle),
  ``cooperate``, ``leave-together``.
- **D12** (each of the confidant's people who sees the betrayal): ``kill``, ``disarm``
  (subdue), ``lock-out`` (get into the vehicle first and lock it).
- **Restoring** (not a choice): once no one hostile is up, the survivors repair what is
  broken and restore the cut links (and so the grounds can reach them again).
- **D13** (the confidant): ``leave`` in the vehicle with the prize and whoever of their
  side is alive (carrying the wounded), ``report-usa`` / ``report-russia`` (tell that
  ground they hold the station, and stay), ``wait``, ``stay``. The defector's advice to
  leave weighs with the confidant's trust in her, and a betrayal weighs heavily for leaving.

People at risk keep together and pick up a weapon when an armed enemy is about; anyone
who finds an ally bleeding beside them treats them first. A purpose to kill, subdue, hunt
or sabotage that finds no chance in three hours is given up (the person stands guard).

State (plain data under ``agents.``): ``side`` (people,) int, whom each person sides
with now (a faction index, or a side of one's own); ``intent``, ``target`` (people,)
int and ``since_ms`` (people,) int64; ``plot`` (8,) int, the people the story turns on
(:data:`PLOT`), -1 for nobody yet; ``later`` (people, 2) int, an intention that waits for a
rescue under way; ``wounded_by`` (people,) int, the last person who
fought them.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..control.commands import Command, link_hardware, power_hardware
from ..control import confront as fight
from ..station import routes
from ..sim.fastnp import ByBytes, count_nonzero
from ..station.people import SLEEP
from . import turns
from .goals import HOME

INTENTS = ("", "eva", "strike", "strand", "cut-radio", "rescue", "tell", "seek", "kill", "subdue", "hunt",
           "betray", "restore", "leave", "guard", "return", "sabotage")
(NONE, EVA, STRIKE, STRAND, CUT_RADIO, RESCUE, TELL, SEEK, KILL, SUBDUE, HUNT, BETRAY, RESTORE, LEAVE, GUARD,
 RETURN, SABOTAGE) = range(len(INTENTS))
VIOLENT = frozenset({STRIKE, STRAND, KILL, SUBDUE, HUNT, BETRAY, SABOTAGE})
GIVE_UP = frozenset({KILL, SUBDUE, HUNT, SABOTAGE, BETRAY, STRAND})  # purposes given up when no chance comes (PATIENCE_MS)
SEEN = frozenset({KILL, SUBDUE, HUNT})  # violence others can see coming (a betrayal, once it shows)
PLOT = ("lurer", "asked", "lost", "defector", "confidant", "hunter", "betrayer", "leaver", "stranded")
LURER, ASKED, LOST, DEFECTOR, CONFIDANT, HUNTER, BETRAYER, LEAVER, STRANDED = range(len(PLOT))
SURE_MARGIN = 2 * fight.NOISE  # a margin the noise cannot undo
WORK_OUTSIDE_MS = 2 * 3600_000  # how long the antenna job keeps someone outside (estimate)
REACH_ANTENNA_MS = 20 * 60_000  # from the airlock to the antenna (estimate)
LOST_AFTER_MS = 30 * 60_000  # a pushed person with no radio is missed this long after (estimate)
SABOTAGE_KINDS = ("co2_remover", "o2_generator")
UNEASY = 0.4
PATIENCE_MS = 3 * 3600_000  # how long a violent purpose waits for its chance before it is given up (estimate)


class Story:
    """The situations and intentions of the crisis, for one :class:`~issim.agents.Agents`."""

    def __init__(self, agents, bonds: dict, confidants: dict, prize: Optional[str]):
        self.agents = agents
        self.bonds = bonds  # person index -> person index
        self.confidants = confidants
        self.prize_id = prize
        self.prize = -1
        self.vehicle = -1
        self.d = None  # the run's directory (issim.control.directory.Directory), from bind
        self._homes: dict = {}  # faction index -> its home module (see _home)
        # who is openly bent on violence (menacing): a pure function of the intentions
        self._bent = ByBytes(lambda intent: tuple(q for q, i in enumerate(intent.tolist()) if i in SEEN or i == BETRAY))

    # ------------------------------------------------------------------ set-up

    def bind(self, sim) -> None:
        subs = {s.name: s for s in sim.subsystems}
        self.d = c = subs["control"].directory
        self._homes = {}
        self.ls = subs.get("lifesupport")
        self.world = w = sim.world
        self.names = self.agents.names
        self.n = len(self.names)
        self.vol_ids = tuple(v.id for v in w.volumes)
        self.seg_of = tuple(v.segment for v in w.volumes)
        self.topology = c.topology
        self.link_ids = tuple(l.hatch for l in w.links)
        self.airlocks, self.workstations = c.airlocks, c.workstations
        seats = [(v, s) for v, s in sorted(c.seats.items()) if s > 0]
        self.vehicle = seats[0][0] if seats else -1
        self.seats = seats[0][1] if seats else 0
        self.vehicle_hatch = c.vehicle_link.get(self.vehicle, -1)
        if self.prize_id is not None:
            self.prize = c.item_index[self.prize_id]
        self.machines = ()
        if self.ls is not None:
            self.machines = tuple((i, m.id, w.index[m.module]) for i, m in enumerate(self.ls.machines)
                                  if m.kind in SABOTAGE_KINDS and m.module in w.index)

    def keys(self) -> tuple:
        """The arrays :meth:`reset` creates (declared in the agents' schema)."""
        from ..sim.schema import Key

        p = ("people",)
        return (
            Key("agents.side", p, "int64", "1", "the side each person is on in the story (a faction index)"),
            Key("agents.intent", p, "int64", "1", "each person's intention (see INTENTS)"),
            Key("agents.target", p, "int64", "1", "whom each intention is toward, -1 no one"),
            Key("agents.since_ms", p, "int64", "ms", "when each intention was formed"),
            Key("agents.plot", ("plot",), "int64", "1", "who plays each part of the plot, -1 no one yet"),
            Key("agents.wounded_by", p, "int64", "1", "who last wounded each person, -1 no one"),
            Key("agents.later", ("people", 2), "int64", "1", "an intention waiting: (intent, target)"),
            Key("agents.clock", (3,), "int64", "ms", "knocked off at; betrayal seen at; the push heard"),
        )

    def reset(self, state) -> None:
        n = self.n
        state["agents.side"] = state["control.faction"].copy() if "control.faction" in state else np.zeros(n, np.int64)
        state["agents.intent"] = np.zeros(n, dtype=np.int64)
        state["agents.target"] = np.full(n, -1, dtype=np.int64)
        state["agents.since_ms"] = np.zeros(n, dtype=np.int64)
        state["agents.plot"] = np.full(len(PLOT), -1, dtype=np.int64)
        state["agents.wounded_by"] = np.full(n, -1, dtype=np.int64)
        state["agents.later"] = np.full((n, 2), -1, dtype=np.int64)  # an intention waiting: (intent, target)
        state["agents.clock"] = np.zeros(3, dtype=np.int64)  # knocked off at; betrayal seen at; the push heard

    # ------------------------------------------------------------------ small readers

    def _up(self, a, p: int) -> bool:
        """Alive, conscious, aboard (not in a departed vehicle)."""
        return bool(a["crew.alive"][p] and a["crew.conscious"][p] and not a["control.departed"][a["crew.location"][p]])

    def _inside(self, a, p: int) -> bool:
        """Up (:meth:`_up`) and inside the station, not out on a spacewalk nor adrift: someone
        who could stand beside another in a fight."""
        return self._up(a, p) and not a["crew.on_eva"][p] and not a["control.adrift"][p]

    def _aboard(self, a, p: int) -> bool:
        return bool(a["crew.alive"][p] and not a["control.departed"][a["crew.location"][p]])

    def _side_of(self, a, p: int) -> int:
        return int(a["agents.side"][p])

    def _mates(self, a, p: int, up: bool = True) -> list[int]:
        s = self._side_of(a, p)
        return [q for q in range(self.n) if q != p and int(a["agents.side"][q]) == s
                and (self._up(a, q) if up else self._aboard(a, q))]

    def _hostile(self, a, p: int) -> bool:
        return int(a["agents.intent"][p]) in VIOLENT

    def _ups(self, a) -> list[bool]:
        """:meth:`_up` of everyone, read in one pass (plain lists: indexing numpy arrays element
        by element costs more than the whole list)."""
        alive, conscious = a["crew.alive"].tolist(), a["crew.conscious"].tolist()
        departed, loc = a["control.departed"].tolist(), a["crew.location"].tolist()
        return [alive[q] and conscious[q] and not departed[loc[q]] for q in range(self.n)]

    def menacing(self, a, up: Optional[list] = None) -> list[int]:
        """People up and about and openly bent on violence, on whatever side (see :meth:`threats`);
        ``up``: :meth:`_ups`, if already read."""
        intents = a["agents.intent"]
        bent = self._bent(intents)  # (kept with the bytes of the intentions it was read from)
        if not bent:
            return []  # no one openly bent on violence (most frames): no one can be a threat
        intent = intents.tolist()
        betrayer = int(a["agents.plot"][BETRAYER])
        seen_betrayal = int(a["agents.clock"][1]) > 0
        if up is None:
            up = self._ups(a)
        return [q for q in bent if up[q] and (intent[q] in SEEN or (q == betrayer and seen_betrayal))]

    def threats(self, a, p: int, menacing: Optional[list[int]] = None) -> list[int]:
        """People up and about, on another side, openly bent on violence (a covert plan does
        not show; a betrayal shows once it has been seen). ``menacing``: :meth:`menacing`, if
        already worked out for this state."""
        if menacing is None:
            menacing = self.menacing(a)
        if not menacing:
            return []
        side = a["agents.side"]
        s = int(side[p])
        return [q for q in menacing if int(side[q]) != s]

    def _set(self, state, p: int, intent: int, target: int = -1, why: str = "", force: bool = False) -> None:
        """Give ``p`` an intention. A rescue under way is not dropped for anything else: the
        new intention waits (``agents.later``) until the person is back in or lost."""
        a = state.arrays
        if int(a["agents.intent"][p]) == intent and int(a["agents.target"][p]) == target:
            return
        busy = int(a["agents.target"][p])
        if not force and int(a["agents.intent"][p]) == RESCUE and intent != RESCUE and busy >= 0 \
                and a["control.adrift"][busy] and a["crew.alive"][busy]:
            a["agents.later"][p] = (intent, target)
            state.record("agents", what="later", person=self.names[p], intent=INTENTS[intent],
                         why="a rescue comes first")
            return
        a["agents.intent"][p] = intent
        a["agents.target"][p] = target
        a["agents.since_ms"][p] = state.t_ms
        a["agents.next_ms"][p] = min(int(a["agents.next_ms"][p]), state.t_ms + self.agents.crisis_ms)
        state.record("agents", what="intent", person=self.names[p], intent=INTENTS[intent],
                     target=self.names[target] if 0 <= target < self.n and intent not in (EVA, SEEK, RETURN) else "",
                     why=why)

    def _join(self, state, p: int, side_of: int, why: str) -> None:
        a = state.arrays
        new = int(a["agents.side"][side_of])
        if int(a["agents.side"][p]) != new:
            a["agents.side"][p] = new
            state.record("agents", what="sides", person=self.names[p], side=self.side_name(new), why=why)

    def side_name(self, s: int) -> str:
        f = self.d.factions
        return f[s] if 0 <= s < len(f) else f"own ({self.names[s - len(f)]})" if s - len(f) < self.n else str(s)

    _made_of: tuple = ()  # the agents.decisions tuple _made was read from
    _made: frozenset = frozenset()  # its keys, and its (key, person name) pairs

    def _decisions_made(self, state) -> frozenset:
        """The keys and the ``(key, person)`` pairs of the decisions made so far, read again
        whenever ``agents.decisions`` is another tuple (a decision appends by making a new
        one; a tuple never changes, so the same object means the same decisions)."""
        made = state.facts["agents.decisions"]
        if made is not self._made_of:
            self._made = frozenset(d[1] for d in made) | frozenset((d[1], d[2]) for d in made)
            self._made_of = made
        return self._made

    def _decided(self, state, key: str) -> bool:
        return key in self._decisions_made(state)

    def _decide(self, state, p: int, key: str, odds: dict) -> str:
        return self.agents.decide(state, p, key, odds)

    # ------------------------------------------------------------------ situations

    def lure(self, state, p: int, ground: str) -> None:
        """A commander who complied by luring: ask the other side's commander out."""
        a = state.arrays
        mine = self._side_of(a, p)
        ordered = [self.names.index(n) for _, n, g, *_ in state.facts["agents.orders"]
                   if g != ground and n in self.names]
        others = [q for q in ordered + list(range(self.n)) if int(a["agents.side"][q]) != mine and self._up(a, q)]
        if not others:
            return
        a["agents.plot"][LURER], a["agents.plot"][ASKED] = p, others[0]
        state.record("agents", what="lure", person=self.names[p], asked=self.names[others[0]],
                     said="an antenna is broken and must be repaired by hand, outside")

    def observe(self, state, deaths: list[tuple[int, int]], hostile_acts: list[tuple[int, str]]) -> None:
        """Meet whatever situation the station is in now (once a frame): ``deaths`` are
        ``(person, killer or -1)``, ``hostile_acts`` ``(actor, command)`` done since the last frame."""
        turns.check(self, state)
        self.meet(state, deaths, hostile_acts)

    def meet(self, state, deaths: list[tuple[int, int]], hostile_acts: list[tuple[int, str]]) -> None:
        """:meth:`observe` after the turns (:func:`turns.check`): the film's situations."""
        a = state.arrays
        plot = a["agents.plot"]
        if not deaths and not hostile_acts and max(plot.tolist()) < 0 \
                and not count_nonzero(a["agents.intent"]) and not count_nonzero(a["control.adrift"]):
            return  # no story under way: nothing here can change (most frames of most runs)
        for p, killer in deaths:
            self._death(state, p, killer)
        for actor, command in hostile_acts:
            self._betrayal_seen(state, actor, command)
        lurer, asked = int(plot[LURER]), int(plot[ASKED])
        if asked >= 0 and not self._decided(state, "d3_eva") and self._up(a, asked) and self._awake(a, asked):
            self._d3(state, asked)
        intent, target, alive = a["agents.intent"].tolist(), a["agents.target"].tolist(), a["crew.alive"].tolist()
        going = [q for q in range(self.n) if intent[q] == EVA and target[q] != 2 and alive[q]]
        for e in [q for q in going if not a["crew.on_eva"][q] and self._gone_overt(state, a, q)]:
            # Still in the suit when their own side moves openly: the spacewalk is called off.
            self._set(state, e, NONE, -1, "called off: their own side has moved openly against the other")
            a["agents.suspicion"][e] = max(float(a["agents.suspicion"][e]), UNEASY)
            if lurer >= 0 and int(a["agents.intent"][lurer]) in (STRIKE, STRAND):
                self._set(state, lurer, GUARD, -1, "the spacewalk is off")
            going.remove(e)
        for e in going:  # the lurer hears the spacewalk is on: he decides while the suit is made ready
            if lurer >= 0 and not self._decided(state, "d5_arm_strike") and self._up(a, lurer):
                self._d5(state, lurer, e)
        intent, on_eva = a["agents.intent"].tolist(), a["crew.on_eva"].tolist()
        out = [q for q in range(self.n) if on_eva[q] and intent[q] == EVA]
        for e in out:
            ally = self._ally_of(a, lurer)
            if ally >= 0 and not self._decided(state, "d4_cut_radio"):
                self._d4(state, ally, e)
            if self._clipped_at_the_antenna(a, e) and lurer >= 0 and int(a["agents.intent"][lurer]) == STRIKE \
                    and int(a["agents.target"][lurer]) == e and self._up(a, lurer) \
                    and not self._decided(state, "d5_reconsider"):
                self._d5(state, lurer, e, reconsider=True)
        adrift, alive = a["control.adrift"].tolist(), a["crew.alive"].tolist()  # (_lost changes neither)
        for q in range(self.n):
            if adrift[q] and alive[q] and plot[LOST] < 0:
                if not a["comms.suit_radio_ok"][q] and state.t_ms - int(a["agents.clock"][0]) < LOST_AFTER_MS:
                    continue
                self._lost(state, q)
        locked_out = int(plot[STRANDED])  # the one the lurer's strand locked out (set when his lock is done)
        if plot[LOST] < 0 and locked_out >= 0 and lurer >= 0 and a["crew.alive"][locked_out]:
            side = int(a["agents.side"][locked_out])
            if any(self._shut_in(a, q) for q in range(self.n) if int(a["agents.side"][q]) == side):
                self._stranded(state, locked_out, lurer)
        d = int(plot[DEFECTOR])
        c = int(plot[CONFIDANT])
        if d >= 0 and c >= 0 and self._up(a, d) and self._up(a, c):
            if int(a["agents.intent"][d]) == TELL and a["crew.location"][d] == a["crew.location"][c]:
                state.record("agents", what="told", person=self.names[d], to=self.names[c],
                             said="take the research and leave in the vehicle")
                self._set(state, d, GUARD, c, "stays with the one she told")
                if not self._decided(state, "d7_trust"):
                    self._d7(state, c)
                # Those of the confidant's side who already suspect the other side do not leave a
                # turncoat alone with one of their own: they go to watch her (the film's B9 follows).
                for x in range(self.n):
                    if x not in (c, d) and self._up(a, x) and int(a["control.faction"][x]) == int(a["control.faction"][c]) \
                            and a["agents.suspicion"][x] >= 0.3 and int(a["agents.intent"][x]) in (NONE, GUARD, RESTORE) \
                            and int(a["agents.target"][x]) < 0 and not a["crew.on_eva"][x]:
                        self._set(state, x, GUARD, d, "a Russian among us: keeps an eye on her")
            if not self._decided(state, "d8_deal_with_nika"):
                for x in range(self.n):
                    if x not in (c, d) and self._up(a, x) and int(a["control.faction"][x]) == int(a["control.faction"][c]) \
                            and a["crew.location"][x] == a["crew.location"][d] and a["agents.suspicion"][x] >= 0.3:
                        self._d8(state, x, d)
                        break
        if d >= 0 and c >= 0 and not a["crew.alive"][d] and self._up(a, c) and a["agents.seen_dead"][c, d] \
                and self._decided(state, "d7_trust") and not self._decided(state, "d7_reconsider") \
                and self._choice(state, "d7_trust") != "trust" and int(a["agents.intent"][c]) in (NONE, GUARD, RESTORE):
            self._d7(state, c, reconsider=True)
        self._d10_check(state)
        self._give_up(state)
        self._after(state)
        if count_nonzero(a["agents.intent"]) or count_nonzero(a["crew.bleeding"]):
            self._keep_safe(state)

    def settled(self, state) -> bool:
        """Whether :meth:`meet` would change nothing now, given no death nor hostile act to
        meet: each of its situations is tested, in its order, for what it needs before it can act (a
        necessary condition, far cheaper than the situation itself). Most frames of a crisis
        that has come to rest (a departure made, one side standing guard) pass every test, and
        the story is spared its call; the test reads the state afresh each time (nothing kept).

        - D3 needs someone asked who has not answered; the spacewalk's situations (calling it
          off, D4, D5) someone bent on it (``EVA``).
        - Someone lost, or shut in (stranded), needs no one lost yet, and someone adrift or
          someone the lurer's strand locked out.
        - The defector's and the confidant's situations (D7, D8, the told), and all that comes
          after (:meth:`_after`), need a confidant.
        - D10 is its own test (:meth:`_d10_due`).
        - A violent purpose is given up only :data:`PATIENCE_MS` after it was formed (its due time).
        - :meth:`_keep_safe` needs someone to hurry: threatened or beside an ally bleeding, and
          not yet due within the crisis cadence."""
        a = state.arrays
        plot = a["agents.plot"].tolist()
        if plot[CONFIDANT] >= 0:
            return False
        intents = a["agents.intent"]
        intent = intents.tolist()
        if EVA in intent:
            return False
        made = self._decisions_made(state)
        asked, lurer, lost = plot[ASKED], plot[LURER], plot[LOST]
        if asked >= 0 and "d3_eva" not in made:
            return False
        if lost < 0 and ((plot[STRANDED] >= 0 and lurer >= 0) or count_nonzero(a["control.adrift"])):
            return False
        t = state.t_ms
        if (count_nonzero(a["crew.bleeding"]) or self._bent(intents)) and self._to_hurry(a, t + self.agents.crisis_ms):
            return False
        if not GIVE_UP.isdisjoint(intent):
            since = a["agents.since_ms"].tolist()
            if any(i in GIVE_UP and t - since[p] >= PATIENCE_MS for p, i in enumerate(intent)):
                return False
        return lost < 0 or "d10_retaliate" in made or not self._d10_due(state, a)

    def _give_up(self, state) -> None:
        """A violent purpose that has come to nothing for :data:`PATIENCE_MS` (the prey out of
        reach behind locked hatches, never a sure chance) is given up: the person stands guard
        and bides their time, and the story can move on."""
        a = state.arrays
        # (_set changes only the person's own intention, so the intentions can be read first)
        for p in [p for p, i in enumerate(a["agents.intent"].tolist()) if i in GIVE_UP]:
            if self._up(a, p) and state.t_ms - int(a["agents.since_ms"][p]) >= PATIENCE_MS:
                self._set(state, p, GUARD, -1, "no chance came; bides their time")

    def _awake(self, a, p: int) -> bool:
        return int(a["crew.activity"][p]) != SLEEP

    def _ally_of(self, a, p: int) -> int:
        if p < 0:
            return -1
        for q in range(self.n):
            if q != p and int(a["control.faction"][q]) == int(a["control.faction"][p]) and self._up(a, q) \
                    and int(a["agents.goal"][q]) != 0 and int(a["agents.side"][q]) == int(a["agents.side"][p]):
                return q
        return -1

    def _gone_overt(self, state, a, p: int) -> bool:
        """Whether ``p``'s own side has chosen to take the station openly (its commander's
        ``d1_means`` / ``d2_means`` = overt): the other side is then an enemy in the open."""
        f = int(a["control.faction"][p])
        return any(k in ("d1_means", "d2_means") and c == "overt" and n in self.names
                   and int(a["control.faction"][self.names.index(n)]) == f
                   for _, k, n, c, *_ in state.facts["agents.decisions"])

    def _d3(self, state, e: int) -> None:
        a = state.arrays
        tr, s = a["agents.traits"][e], float(a["agents.suspicion"][e])
        # A side that has moved openly against the other does not send its people out on the
        # other's say-so: the request comes from those it is fighting.
        overt = 1.0 if self._gone_overt(state, a, e) else 0.0
        choice = self._decide(state, e, "d3_eva", {"go": (1 - s) * (1 - tr[1]), "tethered": (1 - s) * tr[1],
                                                   "refuse": s + overt, "send-other": 0.1})
        goer = e
        if choice == "send-other":
            mates = self._mates(a, e)
            goer = mates[0] if mates else -1
        if choice in ("go", "send-other") and goer >= 0:
            self._set(state, goer, EVA, 1, "the antenna, unclipped to reach it")
            self._helper(state, goer)
        elif choice == "tethered":
            self._set(state, e, EVA, 0, "the antenna, clipped on")
            self._helper(state, e)
        elif choice == "refuse":
            a["agents.suspicion"][e] = min(1.0, float(a["agents.suspicion"][e]) + 0.5)

    def _helper(self, state, e: int) -> None:
        """An EMU is put on with help: one of ``e``'s side goes with them to the airlock."""
        from ..control.work import EMU_AIRLOCKS

        a = state.arrays
        if self.vol_ids[self._airlock_for(a, e)] not in EMU_AIRLOCKS:
            return
        free = [q for q in self._mates(a, e) if int(a["agents.intent"][q]) in (NONE, GUARD)]
        if free:
            self._set(state, free[0], GUARD, e, "helps them into the suit")

    def _d4(self, state, ally: int, e: int) -> None:
        a = state.arrays
        loyalty, s = float(a["agents.loyalty"][ally]), float(a["agents.traits"][ally][2])
        lurer = int(a["agents.plot"][LURER])
        # Torn between the one who set the trap (his brother, in the film) and the one outside.
        by_lurer = float(a["agents.trust"][ally, lurer]) if lurer >= 0 else 0.0
        choice = self._decide(state, ally, "d4_cut_radio", {"cut": loyalty * (1 - s) + 0.3 * by_lurer,
                                                            "warn": s * (1 - loyalty) * float(a["agents.trust"][ally, e]),
                                                            "refuse": 0.3})
        if choice == "cut":
            self._set(state, ally, CUT_RADIO, e, "so that no one hears them out there")
        elif choice == "warn" and a["comms.suit_radio_ok"][e]:
            state.record("agents", what="warned", person=self.names[ally], to=self.names[e])
            a["agents.suspicion"][e] = 1.0
            self._set(state, e, EVA, 2, "warned: clip on and come back in")

    def _d5(self, state, lurer: int, e: int, reconsider: bool = False) -> None:
        """D5: strike ``e`` with the arm once they unclip, lock them out (strand), or hold back.
        Met again once (``reconsider``, ``d5_reconsider``) by a lurer who chose to strike and
        sees ``e`` at the antenna still clipped on (the push needs them unclipped: the chance
        will not come): the will that chose the strike now weighs toward the one violent way
        left, the strand, as much as it did toward the strike."""
        a = state.arrays
        loyalty, (ag, ca, _) = float(a["agents.loyalty"][lurer]), a["agents.traits"][lurer]
        hold_back = 0.3 * float(a["agents.trust"][lurer, e])
        if reconsider:
            odds = {"strand": (ag + ca * 0.5) * loyalty, "hold-back": hold_back}
        else:
            odds = {"strike": ag * loyalty, "strand": ca * loyalty * 0.5, "hold-back": hold_back}
        choice = self._decide(state, lurer, "d5_reconsider" if reconsider else "d5_arm_strike", odds)
        if choice == "strike":
            self._set(state, lurer, STRIKE, e, "the arm, while they are unclipped")
        elif choice == "strand":
            self._set(state, lurer, STRAND, e, "lock them into the airlock"
                      + (": they stay clipped on" if reconsider else ""))
        elif reconsider:
            self._set(state, lurer, GUARD, -1, "they stay clipped on: no chance")

    def _clipped_at_the_antenna(self, a, e: int) -> bool:
        """Whether ``e``, outside on the antenna job, has reached it and stays clipped on."""
        from ..station.people import SUIT_ENDURANCE_S

        outside_ms = (SUIT_ENDURANCE_S - float(a["crew.suit_s"][e])) * 1000.0
        return bool(a["crew.on_eva"][e] and a["crew.tethered"][e] and int(a["agents.target"][e]) == 0
                    and int(a["agents.intent"][e]) == EVA and outside_ms >= REACH_ANTENNA_MS)

    def _lost(self, state, e: int) -> None:
        a = state.arrays
        a["agents.plot"][LOST] = e
        state.record("agents", what="lost", person=self.names[e],
                     heard=bool(a["comms.suit_radio_ok"][e]))
        side = int(a["control.faction"][e])
        mates = [q for q in range(self.n) if q != e and int(a["agents.side"][q]) == side and self._aboard(a, q)]
        for q in mates:
            a["agents.suspicion"][q] = min(1.0, max(float(a["agents.suspicion"][q]), UNEASY))
        if a["comms.suit_radio_ok"][e]:  # they hear the call: they know who did it, and go and get them
            a["agents.clock"][2] = 1
            for q in mates:
                a["agents.suspicion"][q] = 1.0
            for q in mates:
                if self._up(a, q):
                    self._set(state, q, RESCUE, e, "heard the call for help")
                    break
        self._rally(state, e, mates, side, "was lost")

    def _stranded(self, state, e: int, lurer: int) -> None:
        """The other end of D5's ``strand``: someone of ``e``'s side in the airlock (``e`` back
        from outside, or whoever helped them into the suit) finds its hatch into the station
        locked from the far side. Shut in, they call the others on the airlock's audio
        terminal (the station's intercom reaches every pressurised module; no suit radio is
        needed): ``e``'s side learns what was done and by whom, as when a pushed man's call is
        heard, and so does the one who loves ``e`` (D6: the film's Nika turns "furious about
        the attack on Gordon", B8, whatever form the attack took). Those shut in force the
        hatch (:meth:`_way_out`)."""
        a = state.arrays
        a["agents.plot"][LOST] = e
        a["agents.clock"][2] = 1  # they know who did it
        state.record("agents", what="stranded", person=self.names[e], by=self.names[lurer])
        side = int(a["control.faction"][e])
        mates = [q for q in range(self.n) if q != e and int(a["agents.side"][q]) == side and self._aboard(a, q)]
        for q in mates:
            a["agents.suspicion"][q] = 1.0
        self._rally(state, e, mates, side, "was shut in the airlock")

    def _rally(self, state, e: int, mates: list[int], side: int, what: str) -> None:
        """After the trap has caught ``e`` (:meth:`_lost`, :meth:`_stranded`): their side keeps
        together, and the one who loves them, of the other side, decides whether to defect (D6)."""
        a = state.arrays
        rally = next((q for q in mates if self._up(a, q)), -1)
        for q in mates:
            if q != rally and self._up(a, q) and int(a["agents.intent"][q]) == NONE:
                self._set(state, q, GUARD, rally, "keeping together")
        lover = next((b for b, target in self.bonds.items() if target == e), -1)
        if lover >= 0 and self._up(a, lover) and int(a["agents.side"][lover]) != side \
                and not self._decided(state, "d6_defect"):
            loyalty, s = float(a["agents.loyalty"][lover]), float(a["agents.traits"][lover][2])
            choice = self._decide(state, lover, "d6_defect", {"defect": min(1.0, s * (1 - loyalty) + 0.5),
                                                              "loyal": loyalty})
            if choice == "defect":
                self._join(state, lover, e, f"{self.names[e]} {what}")
                c = self.confidants.get(lover, rally)
                if c < 0 or not self._up(a, c):
                    c = rally
                a["agents.plot"][DEFECTOR], a["agents.plot"][CONFIDANT] = lover, c
                if c >= 0:
                    self._set(state, lover, TELL, c, "the only one she trusts")

    def _d7(self, state, c: int, reconsider: bool = False) -> None:
        """D7: does the confidant take the defector at her word? Met again once (``reconsider``,
        ``d7_reconsider``) by one who did not, on finding her killed: she died for what she told,
        which weighs 0.5 toward believing it now (one event that moves a mind noticeably; the
        film's Kira goes on searching after Nika's death, B8-B9)."""
        a = state.arrays
        s, ca = float(a["agents.traits"][c][2]), float(a["agents.traits"][c][1])
        tr = float(a["agents.trust"][c, int(a["agents.plot"][DEFECTOR])])
        died_for_it = 0.5 if reconsider else 0.0
        choice = self._decide(state, c, "d7_reconsider" if reconsider else "d7_trust",
                              {"trust": s + 0.3 * tr + died_for_it, "refuse": ca * (1 - s), "neutral": 0.2})
        if choice == "trust" and self.prize >= 0:
            self._set(state, c, SEEK, self.prize, "the research, to take it away"
                      + (": she died for telling" if reconsider else ""))

    def _choice(self, state, key: str, p: int = -1) -> str:
        """The choice made at decision ``key`` (the first time it was met; by ``p`` when given), or ""."""
        name = self.names[p] if p >= 0 else None
        return next((ch for _, k, n, ch, *_ in state.facts["agents.decisions"]
                     if k == key and (name is None or n == name)), "")

    def _d8(self, state, x: int, d: int) -> None:
        a = state.arrays
        ag = float(a["agents.traits"][x][0])
        choice = self._decide(state, x, "d8_deal_with_nika", {"kill": ag, "restrain": 1 - ag})
        self._set(state, x, KILL if choice == "kill" else SUBDUE, d, "a Russian among us")

    def _death(self, state, p: int, killer: int) -> None:
        a = state.arrays
        plot = a["agents.plot"]
        for q in range(self.n):  # no one goes on chasing the dead
            if int(a["agents.target"][q]) == p and int(a["agents.intent"][q]) in (KILL, SUBDUE, GUARD, TELL, RESCUE):
                self._set(state, q, NONE, -1, f"{self.names[p]} is dead")
        lurer = int(plot[LURER])
        struck = lurer >= 0 and int(a["agents.plot"][LOST]) >= 0
        own = lurer >= 0 and int(a["control.faction"][p]) == int(a["control.faction"][lurer]) and p != lurer
        if struck and own and killer >= 0 and int(a["control.faction"][killer]) != int(a["control.faction"][lurer]) \
                and self._up(a, lurer) and int(plot[HUNTER]) < 0:
            plot[HUNTER] = lurer
            self._set(state, lurer, HUNT, killer, f"{self.names[killer]} killed {self.names[p]}")
            ally = self._ally_of(a, lurer)
            lost = int(plot[LOST])
            if ally >= 0 and lost >= 0 and a["crew.alive"][lost] and a["control.adrift"][lost] \
                    and not self._decided(state, "d9_save_gordon"):
                loyalty, s = float(a["agents.loyalty"][ally]), float(a["agents.traits"][ally][2])
                choice = self._decide(state, ally, "d9_save_gordon", {"save": s * (1 - loyalty) + 0.2,
                                                                       "leave": loyalty * (1 - s),
                                                                       "stand-aside": 0.2})
                if choice == "save":
                    self._join(state, ally, lost, f"will not kill for {self.names[lurer]}")
                    self._set(state, ally, RESCUE, lost, "still alive out there")
                elif choice == "leave":
                    self._set(state, ally, HUNT, killer, f"with {self.names[lurer]}")

    def _d10_due(self, state, a) -> bool:
        """Whether D10 is met now: the one who was lost is back inside and up, has not yet
        decided, and knows who struck them or has lost the one they love; the lurer alive."""
        lost, lurer = int(a["agents.plot"][LOST]), int(a["agents.plot"][LURER])
        if lost < 0 or self._decided(state, "d10_retaliate") or not self._up(a, lost) or a["crew.on_eva"][lost]:
            return False
        bond = self.bonds.get(lost, -1)
        grief = bond >= 0 and not a["crew.alive"][bond]
        # (else they do not know who struck them, and have lost no one)
        return bool((grief or a["agents.clock"][2]) and lurer >= 0 and a["crew.alive"][lurer])

    def _d10_check(self, state) -> None:
        a = state.arrays
        if not self._d10_due(state, a):
            return
        lost, lurer = int(a["agents.plot"][LOST]), int(a["agents.plot"][LURER])
        bond = self.bonds.get(lost, -1)
        grief = bond >= 0 and not a["crew.alive"][bond]
        how = "locked them out" if self._told_of(state, "stranded", lost) else "knocked them off"
        why = f"{self.names[bond]} is dead" if grief else f"{self.names[lurer]} {how}"
        ag, ca = float(a["agents.traits"][lost][0]), float(a["agents.traits"][lost][1])
        choice = self._decide(state, lost, "d10_retaliate", {"attack": min(1.0, ag + 0.5 * grief), "detain": ca,
                                                              "stand-down": 0.3})
        if choice == "attack":
            self._set(state, lost, KILL, lurer, why)
        elif choice == "detain":
            self._set(state, lost, SUBDUE, lurer, why)
        else:
            self._set(state, lost, NONE, -1, "stands down")

    def _after(self, state) -> None:
        """D11 once the danger from the other side is over; restoring; D13."""
        a = state.arrays
        plot = a["agents.plot"]
        c = int(plot[CONFIDANT])
        if c < 0 or not self._aboard(a, c):
            return
        if not self._up(a, c):  # whoever of her side is still up leads
            c = next((q for q in self._mates(a, c)), -1)
            if c < 0:
                return
        # The danger is over when no one still up aboard is bent on violence (the other side may
        # still be aboard, beaten, restrained or standing aside).
        up = [q for q in range(self.n) if self._up(a, q)]
        anyone_hostile = any(self._hostile(a, q) for q in up)
        held = self.prize >= 0 and int(a["control.item_holder"][self.prize]) >= 0
        x = -1  # who of her own faction, up beside her, could betray her (D11)
        if not anyone_hostile and held and not self._decided(state, "d11_keep_faith") and self.vehicle >= 0:
            x = next((x for x in range(self.n) if x != c and self._inside(a, x)
                      and int(a["agents.side"][x]) == int(a["agents.side"][c])
                      and int(a["control.faction"][x]) == int(a["control.faction"][c])), -1)
        # The thought of going home alone comes once blood has been shed, once the station is
        # mended and going home is at hand, or once she means to leave (the film's B12 follows
        # B11). Until he has made up his mind she does not decide (D13 waits for D11).
        if x >= 0 and (not a["crew.alive"].all() or int(plot[LEAVER]) >= 0 or not self._repairs(a)):
            ag, s = a["agents.traits"][x][0], a["agents.traits"][x][2]
            fear = float(a["agents.fear"][x])  # the only way home is for one: fear pushes
            # and so does grief: one who believes the war below is real fears for the family
            # down there (the film's recaps give Christian's grief over Earth as his motive, B12).
            grief = float(a["agents.belief"][x, 0])
            choice = self._decide(state, x, "d11_keep_faith", {"betray": ag * (1 - s) + 0.3 * fear + 0.3 * grief,
                                                               "cooperate": s, "leave-together": 0.2})
            if choice == "betray":
                a["agents.side"][x] = len(self.d.factions) + x
                state.record("agents", what="sides", person=self.names[x], side="own", why="betrays")
                plot[BETRAYER] = x
                self._set(state, x, BETRAY, -1, "the only way home is for one")
            return
        if anyone_hostile or not self._up(a, c) or int(a["agents.intent"][c]) in (SEEK, LEAVE):
            return
        if self._decided(state, "d11_keep_faith") or int(plot[HUNTER]) >= 0 or int(plot[LOST]) >= 0:
            # Those of her side who are up, and the wounded she can reach (they are carried).
            here = int(a["crew.location"][c])
            group = [c] + [q for q in self._mates(a, c, up=False)
                           if self._up(a, q) or self._reachable(a, here, int(a["crew.location"][q]))]
            if self._repairs(a):
                watching = int(plot[DEFECTOR]) if not self._decided(state, "d8_deal_with_nika") else -1
                for q in group:
                    if int(a["agents.intent"][q]) in (NONE, GUARD) and self._up(a, q) \
                            and not (watching >= 0 and int(a["agents.target"][q]) == watching):
                        self._set(state, q, RESTORE, -1, "nobody left to fight; the station needs mending")
                return
            for q in group:
                if int(a["agents.intent"][q]) == RESTORE:
                    self._set(state, q, NONE, -1, "the station is mended")
            if self._decided(state, "d13_leave") or x >= 0:
                return
            loyalty = float(a["agents.loyalty"][c])
            own = "report-russia" if self.d.factions[int(a["control.faction"][c])] == "russia" else "report-usa"
            other = "report-usa" if own == "report-russia" else "report-russia"
            fear = float(a["agents.fear"][c])
            d = int(plot[DEFECTOR])  # the one who told her to take the research and leave
            advised = 0.5 * float(a["agents.trust"][c, d]) if d >= 0 and self._told(state, d, c) else 0.0
            # One of her own turned on everyone aboard: the station is no place to stay (the film's B15).
            betrayed = 1.0 if int(plot[BETRAYER]) >= 0 else 0.0
            choice = self._decide(state, c, "d13_leave", {"leave": 1 - loyalty + 0.3 * fear + advised + betrayed,
                                                          own: loyalty,
                                                          other: 0.05,
                                                          "wait": 0.2, "stay": 0.2})
            if choice == "leave":
                plot[LEAVER] = c
                for q in self._seated(a, c, group):
                    self._set(state, q, LEAVE, c, "home, wherever that is")
            elif choice.startswith("report"):
                ground = "houston" if choice == "report-usa" else "moscow"
                self._set(state, c, RETURN, {"houston": 0, "moscow": 1}[ground], "report who holds the station")

    def _told(self, state, d: int, c: int) -> bool:
        """Whether ``d`` told ``c`` to take the research and leave (the ``told`` record)."""
        return self._told_of(state, "told", d, to=self.names[c])

    def _told_of(self, state, what: str, p: int, **also) -> bool:
        """Whether the log has an ``agents`` record ``what`` of person ``p`` (with ``also``'s details)."""
        name = self.names[p]
        return any(kind == "agents" and dict(x).get("what") == what and dict(x).get("person") == name
                   and all(dict(x).get(k) == v for k, v in also.items()) for _t, kind, x in state.log)

    def _repairs(self, a) -> bool:
        return bool(self._jobs(a))

    def _jobs(self, a) -> list[tuple[str, str, int]]:
        """What the station needs mended, as ``(command, target, where)``: broken machines, cut
        links, a power bus cut by hand, a module's vent left open (issim.control.sabotage)."""
        jobs = [("repair", mid, where) for i, mid, where in self._broken(a)]
        if "comms.link_ok" in a:
            jobs += [("restore_link", lid, link_hardware(self.d, k)) for k, (lid, seg) in enumerate(self.d.comms_links)
                     if not a["comms.link_ok"][k]]
        if "control.power_severed" in a:
            jobs += [("repair_power", seg, power_hardware(self.d, s)) for s, seg in enumerate(self.d.segments)
                     if a["control.power_severed"][s]]
        if "atm.vent_open" in a:
            jobs += [("close_vent", self.vol_ids[v], v) for v in np.flatnonzero(a["atm.vent_open"])]
        return jobs

    def _betrayal_seen(self, state, actor: int, command: str) -> None:
        a = state.arrays
        b = int(a["agents.plot"][BETRAYER])
        if actor != b or b < 0:
            return
        if not a["agents.clock"][1]:
            a["agents.clock"][1] = state.t_ms
        side = int(a["agents.side"][int(a["agents.plot"][CONFIDANT])])
        for q in range(self.n):
            if q != b and self._up(a, q) and int(a["agents.side"][q]) == side \
                    and int(a["agents.intent"][q]) in (NONE, GUARD, RESTORE, SEEK) \
                    and not self._decided_by(state, "d12_stop_christian", q):
                choice = self._decide(state, q, "d12_stop_christian", self._d12_odds(a, q, b))
                if choice == "kill":
                    self._set(state, q, KILL, b, f"{self.names[b]} {command.replace('_', ' ')}")
                elif choice == "disarm":
                    self._set(state, q, SUBDUE, b, f"{self.names[b]} {command.replace('_', ' ')}")
                else:
                    self._get_away(state, q, b, side)

    def _get_away(self, state, q: int, b: int, side: int) -> None:
        """D12's ``lock-out``: ``q`` leads those of ``side`` who are free into the vehicle, as
        many as it seats; or, when one of them already leads a departure, joins it while a
        seat is left (one departure, never two for one vehicle), else stands guard."""
        a = state.arrays
        intent, target = a["agents.intent"].tolist(), a["agents.target"].tolist()
        leader = next((r for r in range(self.n) if intent[r] == LEAVE and target[r] == r and self._aboard(a, r)
                       and int(a["agents.side"][r]) == side), -1)
        if leader >= 0:
            riders = [r for r in range(self.n) if intent[r] == LEAVE and target[r] == leader and self._aboard(a, r)]
            if self.seats <= 0 or len(riders) < self.seats:
                self._set(state, q, LEAVE, leader, "get into the vehicle first")
            else:
                self._set(state, q, GUARD, -1, "no seat left in the vehicle")
            return
        going = [q] + [r for r in range(self.n) if r not in (q, b) and self._up(a, r)
                       and int(a["agents.side"][r]) == side and intent[r] in (NONE, GUARD, RESTORE, SEEK)]
        for r in self._seated(a, q, going):
            self._set(state, r, LEAVE, q, "get into the vehicle first")

    def _d12_odds(self, a, q: int, b: int) -> dict:
        """D12's weights for ``q`` once ``b``'s betrayal is seen."""
        ag, ca = float(a["agents.traits"][q][0]), float(a["agents.traits"][q][1])
        fear, grudge = float(a["agents.fear"][q]), float(a["agents.grievance"][q, b])
        # Their chance of coming through a fight with him (:meth:`_odds_against`): one they are
        # sure of draws them to it (x 2); one that would leave them bleeding alone is one they
        # would not survive, and fear then turns them toward getting away first.
        win = self._odds_against(a, q, b)
        return {"kill": (ag + 0.2 + 0.3 * grudge) * 2 * win, "disarm": ca * (1 - ag) * 2 * win,
                "lock-out": 0.1 + (1 - win) * (1 + fear)}

    def _odds_against(self, a, q: int, b: int) -> float:
        """``q``'s chance of coming through a fight with ``b``: armed, with the people of ``q``'s
        side who are up aboard (not outside) to stand with them (what ``q`` can count on, not where
        they stand; ``b`` counts as armed once bent on killing, hunting or betraying: he takes a
        weapon then). With someone beside them, prevailing is enough: a wound is treated (the
        film's B13, two against one). Alone against an armed man, only a clear win is: the
        confrontation leaves the winner of an armed fight to the death wounded by 0.9 less the
        margin, bleeding from 0.3, so alone they must win by 0.6 or bleed with no one to treat them."""
        side = a["agents.side"].tolist()
        with_q = sum(1 for r in range(self.n) if r not in (q, b) and side[r] == side[q] and self._inside(a, r))
        armed = a["control.armed"].copy()
        armed[q] = True
        armed[b] = armed[b] or int(a["agents.intent"][b]) in (KILL, HUNT, BETRAY)
        clear = fight.WOUND_BASE - fight.BLEEDS_FROM if armed[b] and not with_q else 0.0
        return fight.prevail_probability(fight.margin(a["crew.health"], armed, q, b, (with_q, 0)) - clear)

    def _decided_by(self, state, key: str, p: int) -> bool:
        return (key, self.names[p]) in self._decisions_made(state)

    def _keep_safe(self, state) -> None:
        """Whoever is threatened or has an ally bleeding beside them acts within the crisis cadence."""
        a = state.arrays
        next_ms, soon = a["agents.next_ms"], state.t_ms + self.agents.crisis_ms
        for p in self._to_hurry(a, soon):
            next_ms[p] = soon

    def _to_hurry(self, a, soon: int) -> list[int]:
        """Those :meth:`_keep_safe` brings forward to ``soon``: up, inside, threatened or with an
        ally bleeding beside them, and not already due by then (who they are does not depend on
        anyone's next decision time, so they are all found before any is written)."""
        bleeds = a["crew.bleeding"]
        menacing = self.menacing(a)
        if not menacing and not count_nonzero(bleeds):
            return []  # no one threatened, no one bleeding: no one to hurry
        bleeding = bleeds.tolist()
        up = self._ups(a)
        eva, loc = a["crew.on_eva"].tolist(), a["crew.location"].tolist()
        bleeding_at = {loc[q] for q in range(self.n) if bleeding[q]}
        side, armed, next_ms = a["agents.side"].tolist(), a["control.armed"].tolist(), a["agents.next_ms"].tolist()
        hurry = []
        for p in range(self.n):
            if not up[p] or eva[p] or next_ms[p] <= soon:
                continue
            threatened = not armed[p] and any(side[q] != side[p] for q in menacing)
            if threatened or loc[p] in bleeding_at:
                hurry.append(p)
        return hurry

    def on_command(self, state, actor: int, command: str, target: str) -> None:
        """What a command that was done means for the story (called for every one done)."""
        a = state.arrays
        intent = int(a["agents.intent"][actor])
        t = self.names.index(target) if target in self.names else -1
        if command == "operate_arm" and intent == STRIKE and t >= 0 and a["control.adrift"][t]:
            a["agents.clock"][0] = state.t_ms
            self._set(state, actor, GUARD, -1, "back to his own segment")
        elif command == "operate_arm" and intent == RESCUE and t >= 0 and not a["control.adrift"][t]:
            self._set(state, t, EVA, 2, "recovered by the arm")
            later = a["agents.later"][actor].copy()
            if later[0] > 0:
                a["agents.later"][actor] = -1
                self._set(state, actor, int(later[0]), int(later[1]), "after the rescue")
            else:
                c = int(a["agents.plot"][CONFIDANT])
                self._set(state, actor, GUARD, c if c >= 0 and self._up(a, c) else -1, "to keep them safe")
        elif command == "end_eva" and intent == EVA:
            self._set(state, actor, NONE, -1, "back inside")
            for q in range(self.n):  # whoever waited for them outside has missed the moment
                if int(a["agents.target"][q]) == actor and int(a["agents.intent"][q]) in (STRIKE, STRAND, CUT_RADIO):
                    self._set(state, q, GUARD, -1, f"{self.names[actor]} is back inside")
        elif command == "take_item" and intent == SEEK:
            mates = self._mates(a, actor)
            self._set(state, actor, GUARD, mates[0] if mates else -1, "found it; back to her own")
        elif command == "cut_power" and intent == SABOTAGE:
            self._set(state, actor, GUARD, -1, "done; back to his own segment")
        elif command in ("cut_suit_radio", "lock_hatch") and intent in (CUT_RADIO, STRAND):
            if intent == STRAND and command == "lock_hatch":
                a["agents.plot"][STRANDED] = int(a["agents.target"][actor])  # whom his lock shuts out
            self._set(state, actor, GUARD, -1, "done; back to his own segment")
        elif command == "send_message" and intent == RETURN:
            self._set(state, actor, NONE, -1, "reported")
        elif command == "undock":
            for q in range(self.n):
                if a["control.departed"][a["crew.location"][q]] and int(a["agents.intent"][q]) != NONE:
                    self._set(state, q, NONE, -1, "departed")
        elif command == "confront" and t >= 0:
            a["agents.wounded_by"][t] = actor
            a["agents.wounded_by"][actor] = t

    # ------------------------------------------------------------------ acting

    def steps(self, view, p: int) -> list[Command]:
        """The next commands toward ``p``'s intention (first allowed is submitted)."""
        a = view
        name = self.names[p]
        out: list[Command] = []

        def cmd(cname, target="", **args):
            out.append(Command.of(cname, name, target, source="agent", **args))

        loc = int(a["crew.location"][p])
        intent, target = int(a["agents.intent"][p]), int(a["agents.target"][p])
        # First aid comes first, then a weapon if an armed enemy is about.
        bleeding = a["crew.bleeding"].tolist()
        if any(bleeding):
            alive, where, eva, side = (a["crew.alive"].tolist(), a["crew.location"].tolist(), a["crew.on_eva"].tolist(),
                                       a["agents.side"].tolist())
            for q in [p] + [q for q in range(self.n) if q != p]:
                if bleeding[q] and alive[q] and where[q] == loc and not eva[q] and (q == p or side[q] == side[p]) \
                        and not (intent in (KILL, SUBDUE) and q == target):
                    cmd("treat", self.names[q])
        if not a["control.armed"][p] and (intent in (KILL, HUNT, BETRAY)
                                          or (intent not in (EVA, RESCUE, TELL) and self.threats(a, p))):
            cmd("take_weapon")
        if intent != EVA and loc in self.airlocks:  # shut in: out first, whatever they mean to do after
            out.extend(self._way_out(a, p, loc))
        if intent == EVA:
            self._eva_steps(a, p, target, cmd)
        elif intent == STRIKE:
            # At a workstation before they are out (an EVA is supported from the arm: the
            # lurer's cover), pushing once they are out and unclipped.
            if not a["crew.alive"][target] or (not a["crew.on_eva"][target] and int(a["agents.intent"][target]) != EVA):
                out.extend(self._go(a, p, self._home(a, p)))
            else:
                self._arm_steps(a, p, loc, cmd)
                if a["crew.on_eva"][target] and not a["crew.tethered"][target]:
                    cmd("operate_arm", self.names[target], action="push")
        elif intent == STRAND:
            lock = self._airlock_of(a, target)
            k, inner = self._hatch_out_of(lock)
            if k >= 0 and a["crew.on_eva"][target]:  # once they are out
                if a["hatch.open"][k]:
                    out.extend(self._go(a, p, inner))
                    cmd("close_hatch", self.link_ids[k])
                elif int(a["control.lock_side"][k]) < 0:
                    out.extend(self._go(a, p, inner))
                    cmd("lock_hatch", self.link_ids[k])
        elif intent == CUT_RADIO:
            seg = self.seg_of[int(a["crew.location"][target])]
            if self.seg_of[loc] != seg:
                out.extend(self._go(a, p, self._segment_module(seg)))
            cmd("cut_suit_radio", self.names[target])
        elif intent == RESCUE:
            self._arm_steps(a, p, loc, cmd)
            cmd("operate_arm", self.names[target], action="recover")
        elif intent in (TELL, GUARD):
            if 0 <= target < self.n and int(a["crew.location"][target]) != loc and not a["crew.on_eva"][target]:
                out.extend(self._go(a, p, int(a["crew.location"][target])))
            elif target < 0 and self.seg_of[loc] != self.seg_of[self._home(a, p)]:
                out.extend(self._go(a, p, self._home(a, p)))
        elif intent == SEEK:
            holder = int(a["control.item_holder"][target])
            where = int(a["crew.location"][holder]) if holder >= 0 else int(a["control.item_volume"][target])
            if holder != p:
                out.extend(self._go(a, p, where))
                cmd("take_item", self.d.item_ids[target])
        elif intent in (KILL, SUBDUE):
            # Someone else of their side is on the way to the same fight: wait for them unless
            # the chance is already sure (two against one, the film's B13).
            side, tgt, ints = a["agents.side"].tolist(), a["agents.target"].tolist(), a["agents.intent"].tolist()
            there = int(a["crew.location"][target]) if 0 <= target < self.n else -1
            help_coming = any(r != p and side[r] == side[p] and tgt[r] == target and ints[r] in (KILL, SUBDUE)
                              and int(a["crew.location"][r]) != there and self._inside(a, r)
                              and self._reachable(a, int(a["crew.location"][r]), there) for r in range(self.n))
            if self._unseen_only(a, p, target) and self._witnessed(a, p, target):
                return out  # not in front of the other side: wait until she is out of their sight
            self._attack_steps(a, p, target, "kill" if intent == KILL else "subdue", cmd, out, sure=help_coming)
        elif intent == HUNT:
            prey = [q for q in self._prey(a, p, target) if self._margin(a, p, q) >= SURE_MARGIN]
            if prey and int(a["crew.location"][prey[0]]) == loc:
                cmd("confront", self.names[prey[0]], intent="kill", surprise=self._unaware(a, prey[0], p))
            elif prey:
                out.extend(self._go(a, p, int(a["crew.location"][prey[0]])))
            # otherwise bide where one is: a hunter who cannot be sure waits for a better moment
        elif intent == BETRAY:
            self._betray_steps(a, p, loc, cmd, out)
        elif intent == SABOTAGE and 0 <= target < len(self.d.segments):
            where = power_hardware(self.d, target)
            if loc != where:
                out.extend(self._go(a, p, where))
            cmd("cut_power", self.d.segments[target])
        elif intent == RESTORE:
            # The jobs no one has in hand, shared out: the k-th of those mending takes the k-th job first.
            taken = {(w[2], w[3]) for w in view.facts.get("control.work", ())}
            jobs = [j for j in self._jobs(a) if (j[0], j[1]) not in taken]
            crew = [q for q in range(self.n) if int(a["agents.intent"][q]) == RESTORE and self._up(a, q)]
            first = crew.index(p) % len(jobs) if jobs and p in crew else 0
            for what, target, where in jobs[first:] + jobs[:first]:
                if where == loc:
                    cmd(what, target)
                else:
                    out.extend(self._go(a, p, where))
        elif intent == LEAVE:
            self._leave_steps(a, p, loc, target, cmd, out)
        elif intent == RETURN and target in (0, 1):
            cmd("send_message", ("houston", "moscow")[target], text=self._report(a, p),
                id=f"report-{self.d.slugs[p]}")
        return out

    def _report(self, a, p: int) -> str:
        """What ``p`` tells their ground (D13's report): that their side holds the station, and
        who is dead and who has left, as they are now."""
        dead = [self.names[q] for q in range(self.n) if not a["crew.alive"][q]]
        gone = [self.names[q] for q in range(self.n) if a["crew.alive"][q] and not self._aboard(a, q)]
        text = f"{self.names[p]}: we hold the station."
        if dead:
            text += f" Dead: {', '.join(dead)}."
        if gone:
            text += f" Left in the vehicle: {', '.join(gone)}."
        return text

    def _eva_steps(self, a, p, plan, cmd) -> None:
        """``plan``: 1 unclip at the antenna, 0 stay clipped on, 2 come back in now."""
        from ..station.people import SUIT_ENDURANCE_S

        loc = int(a["crew.location"][p])
        if not a["crew.on_eva"][p]:
            if plan == 2:
                return
            lock = self._airlock_for(a, p)
            if loc != lock:
                for c in self._go(a, p, lock):
                    cmd(c.name, c.target)
            cmd("begin_eva")
            return
        outside_ms = (SUIT_ENDURANCE_S - float(a["crew.suit_s"][p])) * 1000.0
        if plan == 1 and a["crew.tethered"][p] and REACH_ANTENNA_MS <= outside_ms < WORK_OUTSIDE_MS:
            cmd("unclip_tether")
        elif plan == 2 or outside_ms >= WORK_OUTSIDE_MS:
            if not a["crew.tethered"][p]:
                cmd("clip_tether")
            cmd("end_eva")

    def _arm_steps(self, a, p, loc, cmd) -> None:
        if int(a["control.arm_operator"][0]) == p and loc in self.workstations:
            return
        if loc not in self.workstations:
            for ws in self.workstations:
                for c in self._go(a, p, ws):
                    cmd(c.name, c.target)
        cmd("take_arm")

    def _attack_steps(self, a, p, q, intent, cmd, out, sure: bool) -> None:
        if not a["crew.alive"][q] or self.d is None:
            return
        if intent == "subdue" and not a["crew.conscious"][q]:
            return
        loc = int(a["crew.location"][p])
        if int(a["crew.location"][q]) != loc or a["crew.on_eva"][q]:
            out.extend(self._go(a, p, int(a["crew.location"][q])))
            return
        if sure and self._margin(a, p, q) < SURE_MARGIN:
            return
        cmd("confront", self.names[q], intent=intent, surprise=self._unaware(a, q, p))

    def _betray_steps(self, a, p, loc, cmd, out) -> None:
        for i, mid, where in self.machines:  # the machines he can get to (a locked segment keeps its own)
            if a["ls.on"][i] and not a["ls.broken"][i] and self._reachable(a, loc, where):
                out.extend(self._go(a, p, where))
                cmd("disable", mid)
                return
        k = self.prize
        holder = int(a["control.item_holder"][k]) if k >= 0 else p
        if holder != p and k >= 0:
            if holder >= 0 and a["crew.alive"][holder] and a["crew.conscious"][holder]:
                self._attack_steps(a, p, holder, "kill", cmd, out, sure=True)
                return
            where = int(a["crew.location"][holder]) if holder >= 0 else int(a["control.item_volume"][k])
            out.extend(self._go(a, p, where))
            cmd("take_item", self.d.item_ids[k])
            return
        self._depart(a, p, loc, [], cmd, out)

    def _leave_steps(self, a, p, loc, leader, cmd, out) -> None:
        k = self.prize
        group = [q for q in range(self.n) if int(a["agents.intent"][q]) == LEAVE and self._aboard(a, q)
                 and int(a["agents.target"][q]) == leader]  # those who leave with this leader, no one else
        if k >= 0 and p == leader and int(a["agents.plot"][CONFIDANT]) >= 0:  # not in a flight: in the film's arc
            holder = int(a["control.item_holder"][k])
            # (one awake who is not leaving with them keeps it: it is taken only from where it
            # lies, or from someone dead or senseless)
            kept = holder >= 0 and holder not in group and self._up(a, holder)
            if not kept and (holder < 0 or not (a["crew.alive"][holder] and holder in group)):
                where = int(a["crew.location"][holder]) if holder >= 0 else int(a["control.item_volume"][k])
                out.extend(self._go(a, p, where))
                cmd("take_item", self.d.item_ids[k])
                return
        self._depart(a, p, loc, [q for q in group if q != p], cmd, out)

    def _depart(self, a, p, loc, companions, cmd, out) -> None:
        v = self.vehicle
        if v < 0 or a["control.departed"][v]:
            return
        for q in companions:  # carry whoever cannot go by themselves
            if a["crew.alive"][q] and not a["crew.conscious"][q] and int(a["crew.location"][q]) != v:
                if int(a["crew.location"][q]) == loc:
                    out.extend(self._go(a, p, v, carrying=q, force=True))
                else:
                    out.extend(self._go(a, p, int(a["crew.location"][q])))
                return
        if loc != v:
            out.extend(self._go(a, p, v, board=True, force=True))
            return
        if self._coming(a, v, companions):
            return  # wait for the others
        if int(a["agents.intent"][p]) == LEAVE and int(a["agents.target"][p]) not in (p, -1):
            return  # the one who leads the departure undocks
        k = self.vehicle_hatch
        if k >= 0 and a["hatch.open"][k]:
            cmd("close_hatch", self.link_ids[k])
        if k >= 0 and p == int(a["agents.plot"][BETRAYER]) and int(a["control.lock_side"][k]) < 0:
            cmd("lock_hatch", self.link_ids[k])  # the betrayer locks himself in: no one follows him aboard
        cmd("undock", self.vol_ids[v])

    # ------------------------------------------------------------------ helpers

    def _seated(self, a, c: int, group: list[int]) -> list[int]:
        """Who of ``group`` (``c`` first) goes in the vehicle: as many as it has seats, ``c``
        and then those ``c`` trusts most (the film's Soyuz takes three; six cannot all go)."""
        seats = self.seats if self.seats > 0 else len(group)
        trust = a["agents.trust"][c]
        rest = sorted((q for q in group if q != c), key=lambda q: (-float(trust[q]), q))
        return ([c] if c in group else []) + rest[:max(0, seats - (c in group))]

    def _coming(self, a, v: int, companions: list[int]) -> bool:
        """Whether anyone of ``companions`` is still to come aboard vehicle ``v`` and can: alive,
        not in it yet, with a way to it, and a seat left for them."""
        loc, alive = a["crew.location"].tolist(), a["crew.alive"].tolist()
        inside = sum(1 for q in range(self.n) if alive[q] and loc[q] == v)
        if self.seats > 0 and inside >= self.seats:
            return False
        return any(alive[q] and loc[q] != v and self._reachable(a, loc[q], v) for q in companions)

    def _prey(self, a, p: int, first: int) -> list[int]:
        mine = int(a["control.faction"][p])
        prey = [q for q in range(self.n) if self._aboard(a, q) and not a["crew.on_eva"][q]
                and int(a["control.faction"][q]) != mine and int(a["agents.side"][q]) != int(a["agents.side"][p])]
        prey.sort(key=lambda q: (q != first, q))
        return prey

    def _unseen_only(self, a, p: int, q: int) -> bool:
        """Whether ``p``'s violence toward ``q`` is to be done out of sight: dealing with a
        turncoat among them (D8), who is not bent on violence herself. The film's Christian
        kills Nika where no one sees it; her own people learn of it after (B9-B11)."""
        return q >= 0 and q == int(a["agents.plot"][DEFECTOR]) and not self._hostile(a, q)

    def _witnessed(self, a, p: int, q: int) -> bool:
        """Whether someone of neither ``p``'s side nor ``q``'s, up and inside, is where ``q`` is."""
        loc, side = a["crew.location"].tolist(), a["agents.side"].tolist()
        return any(r not in (p, q) and loc[r] == loc[q] and side[r] not in (side[p], side[q]) and self._inside(a, r)
                   for r in range(self.n))

    def _unaware(self, a, q: int, p: int) -> bool:
        """Whether ``q`` does not see ``p`` coming: asleep, or trusting, and not bent on violence."""
        if int(a["crew.activity"][q]) == SLEEP:
            return True
        return float(a["agents.suspicion"][q]) < 0.3 and int(a["agents.intent"][q]) not in VIOLENT \
            and int(a["agents.side"][q]) != int(a["agents.side"][p]) and not self.threats(a, q)

    def _margin(self, a, p: int, q: int) -> float:
        """``p``'s margin over ``q`` before the noise, as a confrontation where ``q`` is would count it."""
        if not a["crew.conscious"][q]:
            return 9.0
        loc = a["crew.location"]
        here = (loc == loc[q]) & a["crew.alive"] & a["crew.conscious"] & ~a["crew.on_eva"]
        n = fight.helpers(here, a["agents.side"], p, q)
        return fight.margin(a["crew.health"], a["control.armed"], p, q, n, self._unaware(a, q, p))

    def _broken(self, a) -> list[tuple[int, str, int]]:
        if self.ls is None:
            return []
        w = self.world.index
        return [(i, m.id, w[m.module]) for i, m in enumerate(self.ls.machines) if a["ls.broken"][i] and m.module in w]

    def _home(self, a, p: int) -> int:
        faction = int(a["control.faction"][p])
        home = self._homes.get(faction)
        if home is None:  # (a faction's home module is fixed by the station: worked out once)
            home = self._homes[faction] = self._segment_module(HOME.get(self.d.factions[faction], "ROS"))
        return home

    def _segment_module(self, seg: str) -> int:
        idx = self.world.index
        for vid in (("destiny", "unity", "harmony") if seg == "USOS" else ("zvezda", "zarya", "nauka")):
            if vid in idx:
                return idx[vid]
        return next(i for i, s in enumerate(self.seg_of) if s == seg)

    def _airlock_for(self, a, p: int) -> int:
        """The airlock of ``p``'s own segment (its suits fit them): Quest, or Poisk."""
        seg = self.seg_of[self._home(a, p)]
        return next((v for v in self.airlocks if self.seg_of[v] == seg), self.airlocks[0])

    def _airlock_of(self, a, p: int) -> int:
        loc = int(a["crew.location"][p])
        return loc if loc in self.airlocks else (self.airlocks[0] if self.airlocks else -1)

    def _locked_airlock(self, a, v: int) -> int:
        """The hatch from airlock ``v`` into the station when it is locked from the far side
        (D5's ``strand``), else -1 (also when ``v`` is no airlock)."""
        if v not in self.airlocks:
            return -1
        k, beyond = self._hatch_out_of(v)
        return k if k >= 0 and int(a["control.lock_side"][k]) == beyond else -1

    def _shut_in(self, a, p: int) -> bool:
        """Whether ``p``, up and not outside, is in an airlock locked from the far side."""
        return not a["crew.on_eva"][p] and self._up(a, p) and self._locked_airlock(a, int(a["crew.location"][p])) >= 0

    def breaking_out(self, a, p: int, hatch: str) -> bool:
        """Whether ``p`` is in an airlock and ``hatch`` is its way into the station: forcing it is
        getting out, not an act against anyone (:mod:`issim.agents.mind` does not count it hostile)."""
        loc = int(a["crew.location"][p])
        if loc not in self.airlocks:
            return False
        k, _ = self._hatch_out_of(loc)
        return k >= 0 and self.link_ids[k] == hatch

    def _way_out(self, a, p: int, loc: int) -> list:
        """Someone shut in an airlock (:meth:`_shut_in`) with nothing else to do forces its hatch:
        an airlock is a dead end, and the lock can be undone from this side with tools."""
        k = -1 if a["crew.on_eva"][p] else self._locked_airlock(a, loc)
        return [Command.of("force_hatch", self.names[p], self.link_ids[k], source="agent")] if k >= 0 else []

    def _hatch_out_of(self, v: int) -> tuple[int, int]:
        """The hatch that leads from airlock ``v`` into the station, and the volume beyond."""
        for b, k in self.topology.adj[v] if v >= 0 else ():
            return k, b
        return -1, -1

    def _path(self, a, loc: int, dest: int) -> list:
        """The way :meth:`_go` takes from ``loc`` to ``dest``: through closed hatches too, never
        through one locked from the far side, never into a vehicle that has left (empty: none)."""
        return routes.path(self.topology, None, loc, dest, lock_side=a["control.lock_side"],
                           avoid=a["control.departed"])

    def _reachable(self, a, loc: int, dest: int) -> bool:
        """Whether ``dest`` can be reached from ``loc`` (see :meth:`_path`)."""
        return loc == dest or bool(self._path(a, loc, dest))

    def _go(self, a, p: int, dest: int, board: bool = False, carrying: int = -1, force: bool = False) -> list[Command]:
        """The next command on the way to ``dest``: a move, or opening the hatch in the way.

        With ``force``, when every way there is barred by a hatch locked from the far side,
        the way through the fewest volumes is taken all the same and the first such hatch on
        it forced (``force_hatch``, 30 minutes with tools): what someone set on reaching the
        vehicle to leave does about a segment held against them."""
        name = self.names[p]
        loc = int(a["crew.location"][p])
        path = self._path(a, loc, dest)  # the first closed hatch on it is opened on the way
        if not path and force and loc != dest:
            path = routes.path(self.topology, None, loc, dest, avoid=a["control.departed"])
        if not path:
            return []
        here = loc
        for b, k in path:
            if not a["hatch.open"][k]:
                if here != loc:
                    return [Command.of("move", name, self.vol_ids[here], source="agent")]
                out = []
                side = int(a["control.lock_side"][k])
                if side == here:
                    out.append(Command.of("unlock_hatch", name, self.link_ids[k], source="agent"))
                elif side >= 0:  # (only on a forced way: _path passes no hatch locked from the far side)
                    return [Command.of("force_hatch", name, self.link_ids[k], source="agent")]
                out += [Command.of("open_hatch", name, self.link_ids[k], source="agent"),
                        Command.of("equalize", name, self.link_ids[k], source="agent")]
                return out
            here = b
        if carrying >= 0:
            return [Command.of("carry", name, self.names[carrying], source="agent", to=self.vol_ids[dest])]
        return [Command.of("board" if board else "move", name, self.vol_ids[dest], source="agent")]
