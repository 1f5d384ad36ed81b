"""When the crisis's turns may come (issim.agents.turns, issim.agents.crisis, docs/crisis.md).

Each test puts the story where a rule applies on the real `iss` station, calls the same
entry point the run calls each frame, and checks which decision was or was not made:
- a side whose lure is still under way neither flees nor escalates, and no one leaves while
  one of their own is outside;
- a betrayal (D11) waits for blood, or for the station to be mended, and the confidant's
  own decision (D13) waits for it;
- someone who has boarded a vehicle stays in it when their day's schedule changes;
- a betrayer sabotages only what he can reach, and the suspicious go to watch a turncoat;
- a spacewalk for the other side is called off once one's own side has gone overt;
- a departure takes as many as the vehicle seats and waits for no one who cannot come;
- D12 weighs a fight against the betrayer by the chance of winning it, and two of a side
  bent on the same fight wait for each other;
- a confidant who did not trust the defector reconsiders on finding her killed, once;
- someone locked out on a spacewalk is found by their side once one of them is in the
  airlock, the one who loves them meets D6, and those shut in force the hatch;
- a striker whose man stays clipped on meets D5 again, once;
- someone leaving forces a hatch held against them on the way to the vehicle;
- a turncoat is not killed in front of her old side.
"""

import numpy as np
import pytest

from issim.agents import crisis, turns
from issim.runner import Runner
from issim.scenario import load_scenario

KIRA, CHRISTIAN, GORDON, NICHOLAI, ALEXEY, NIKA = range(6)


@pytest.fixture()
def sim():
    spec = load_scenario("iss")
    return Runner(spec, seed=1, end_ms=spec.start_ms + 3_600_000).sim


def _story(sim):
    return next(s for s in sim.subsystems if s.name == "agents").story


def _decided(sim, key):
    return [n for _, k, n, *_ in sim.state.facts["agents.decisions"] if k == key]


def _frightened(sim):
    """Everyone awake, free, ordered and sure the station will fall: ripe to flee or escalate."""
    a = sim.state.arrays
    a["crew.activity"][:] = 0
    a["agents.urgency"][:] = 0.95
    a["agents.fear"][:] = 0.95


def test_a_lurer_side_waits_for_its_trap(sim):
    story, a = _story(sim), sim.state.arrays
    _frightened(sim)
    a["agents.plot"][crisis.LURER], a["agents.plot"][crisis.ASKED] = NICHOLAI, GORDON
    russians = int(a["agents.side"][NICHOLAI])
    assert turns.trap_side(story, sim.state) == russians  # Gordon has not answered yet
    turns._flee(story, sim.state, turns.trap_side(story, sim.state))
    assert not {"Nicholai Pulov", "Alexey Pulov", "Weronika Vetrov"} & set(_decided(sim, "flee"))
    assert _decided(sim, "flee")  # the other side, not waiting for anything, may decide
    a["agents.plot"][crisis.LOST] = GORDON  # the trap has played out
    assert turns.trap_side(story, sim.state) == -1


def test_no_one_flees_while_one_of_their_own_is_outside(sim):
    story, a = _story(sim), sim.state.arrays
    _frightened(sim)
    a["crew.on_eva"][GORDON] = True
    turns._flee(story, sim.state)
    fled = set(_decided(sim, "flee"))
    assert not {"Kira Foster", "Christian Campbell"} & fled
    assert fled  # the Russians, none of whom is outside, may


def _after_the_trap(sim):
    """Gordon lost, Nika told Kira, Kira holds the research; one link still cut."""
    story, a = _story(sim), sim.state.arrays
    plot = a["agents.plot"]
    plot[crisis.LURER], plot[crisis.LOST] = NICHOLAI, GORDON
    plot[crisis.DEFECTOR], plot[crisis.CONFIDANT] = NIKA, KIRA
    a["agents.side"][NIKA] = a["agents.side"][KIRA]
    a["control.item_holder"][story.prize] = KIRA
    a["comms.link_ok"][0] = False
    return story, a


def test_a_betrayal_waits_for_blood_and_the_confidant_waits_for_it(sim):
    story, a = _after_the_trap(sim)
    story._after(sim.state)
    assert not _decided(sim, "d11_keep_faith") and not _decided(sim, "d13_leave")
    assert int(a["agents.intent"][KIRA]) == crisis.RESTORE  # they mend the station meanwhile
    a["crew.alive"][NIKA] = a["crew.conscious"][NIKA] = False  # blood is shed
    story._after(sim.state)
    assert _decided(sim, "d11_keep_faith") == ["Christian Campbell"]
    assert not _decided(sim, "d13_leave")  # she decides once he has, not in the same breath


def test_a_betrayal_becomes_thinkable_once_the_station_is_mended(sim):
    story, a = _after_the_trap(sim)
    a["comms.link_ok"][:] = True
    story._after(sim.state)
    assert _decided(sim, "d11_keep_faith") == ["Christian Campbell"]


def test_someone_who_boarded_a_vehicle_stays_in_it_when_the_schedule_changes(sim):
    crew = next(s for s in sim.subsystems if s.name == "crew")
    a = sim.state.arrays
    soyuz = sim.world.index["soyuz-ms"]
    a["crew.location"][KIRA] = soyuz
    a["crew.location"][CHRISTIAN] = sim.world.index["zvezda"]
    a["hatch.open"][:] = True
    from issim.station.people import SLEEP

    asleep = crew.schedule == SLEEP
    edges = [m for m in range(1, 1440) if asleep[m, KIRA] != asleep[m - 1, KIRA]
             and asleep[m, CHRISTIAN] != asleep[m - 1, CHRISTIAN]]
    m = edges[0]
    crew._scheduled_moves(sim.state, m - 1, m)
    assert int(a["crew.location"][KIRA]) == soyuz  # strapped in: the schedule leaves her there
    assert int(a["crew.location"][CHRISTIAN]) != sim.world.index["zvezda"]  # he goes to bed or to work
    assert np.all(crew.vehicle[[crew.work, crew.bed]] == False)  # noqa: E712 - no one lives in a vehicle here


def test_a_betrayer_sabotages_what_he_can_reach(sim):
    """With the Russian segment locked against him, Christian goes for a US machine, not Elektron."""
    story, a = _after_the_trap(sim)
    k = story.link_ids.index("zarya-pma-1")
    a["control.lock_side"][k] = sim.world.index["zarya"]  # locked from the Russian side
    a["hatch.open"][k] = False
    loc = sim.world.index["destiny"]
    reachable = [mid for i, mid, where in story.machines if story._reachable(a, loc, where)]
    assert reachable and "elektron" not in reachable
    cmds = []
    story._betray_steps(a, CHRISTIAN, loc, lambda verb, *args, **kw: cmds.append((verb, args)), [])
    assert cmds and cmds[0][0] == "disable" and cmds[0][1][0] in reachable
    a["control.lock_side"][k] = -1  # unlocked: the first machine on the list, Elektron among them, is his
    assert story._reachable(a, loc, sim.world.index["zvezda"])


def test_the_suspicious_go_to_watch_a_turncoat(sim):
    story, a = _after_the_trap(sim)
    a["agents.plot"][crisis.LOST] = -1
    a["crew.activity"][:] = 0
    a["agents.intent"][NIKA], a["agents.target"][NIKA] = crisis.TELL, KIRA
    a["crew.location"][NIKA] = a["crew.location"][KIRA]
    a["agents.suspicion"][CHRISTIAN] = 0.4
    a["agents.intent"][CHRISTIAN], a["agents.target"][CHRISTIAN] = crisis.RESTORE, -1
    a["crew.location"][CHRISTIAN] = sim.world.index["zvezda"]
    a["crew.location"][KIRA] = a["crew.location"][NIKA] = sim.world.index["destiny"]
    a["control.item_holder"][story.prize] = -1
    story.observe(sim.state, [], [])
    assert int(a["agents.intent"][CHRISTIAN]) == crisis.GUARD and int(a["agents.target"][CHRISTIAN]) == NIKA
    assert not _decided(sim, "d8_deal_with_nika")  # not yet: he is not in her module


def test_a_spacewalk_is_called_off_when_ones_own_side_goes_overt(sim):
    """Gordon, suiting up for the Russians' repair, stays in once Houston's side moves openly;
    the lurer's strike is off too, and his side no longer waits for the trap."""
    story, a = _story(sim), sim.state.arrays
    a["agents.plot"][crisis.LURER], a["agents.plot"][crisis.ASKED] = NICHOLAI, GORDON
    a["agents.intent"][GORDON], a["agents.target"][GORDON] = crisis.EVA, 1
    a["agents.intent"][NICHOLAI], a["agents.target"][NICHOLAI] = crisis.STRIKE, GORDON
    made = sim.state.facts["agents.decisions"]
    sim.state.facts["agents.decisions"] = made + ((sim.state.t_ms, "d3_eva", "Gordon Barrett", "go", False),)
    story.observe(sim.state, [], [])
    assert int(a["agents.intent"][GORDON]) == crisis.EVA  # nothing open yet: the spacewalk goes on
    sim.state.facts["agents.decisions"] += ((sim.state.t_ms, "d1_means", "Gordon Barrett", "overt", False),)
    story.observe(sim.state, [], [])
    assert int(a["agents.intent"][GORDON]) == crisis.NONE and a["agents.suspicion"][GORDON] >= crisis.UNEASY
    assert int(a["agents.intent"][NICHOLAI]) == crisis.GUARD
    assert turns.trap_side(story, sim.state) == -1


def test_a_departure_takes_as_many_as_the_vehicle_seats(sim):
    """Four who would leave in a three-seat Soyuz: the leader and the two she trusts most go,
    and no one waits for a fourth who has no seat, or for one who cannot get there."""
    story, a = _after_the_trap(sim)
    assert story.seats == 3
    a["agents.trust"][KIRA, [CHRISTIAN, GORDON, ALEXEY]] = (0.5, 0.9, 0.7)
    assert story._seated(a, KIRA, [CHRISTIAN, KIRA, GORDON, ALEXEY]) == [KIRA, GORDON, ALEXEY]
    soyuz = story.vehicle
    a["hatch.open"][:] = True
    a["crew.location"][[KIRA, GORDON]] = soyuz
    a["crew.location"][ALEXEY] = sim.world.index["zvezda"]
    assert story._coming(a, soyuz, [GORDON, ALEXEY])  # a seat is left and he can get there
    a["crew.location"][CHRISTIAN] = soyuz  # the third seat is taken
    assert not story._coming(a, soyuz, [GORDON, ALEXEY])
    a["crew.location"][CHRISTIAN] = sim.world.index["destiny"]
    k = story.link_ids.index("zarya-pma-1")
    a["crew.location"][ALEXEY] = sim.world.index["destiny"]
    a["hatch.open"][k] = False
    a["control.lock_side"][k] = sim.world.index["zarya"]  # locked against him, on the far side
    assert not story._coming(a, soyuz, [ALEXEY])


def test_one_alone_against_an_armed_betrayer_gets_away_and_two_stand_and_fight(sim):
    """D12 weighs the fight by the chance of coming through it: alone against an armed man she
    would have to win by 0.6 or bleed with no one to treat her (getting away first weighs most);
    with a second beside her prevailing is enough, and it is sure."""
    story, a = _after_the_trap(sim)
    a["agents.intent"][CHRISTIAN] = crisis.BETRAY  # not armed yet: he will be
    a["agents.side"][CHRISTIAN] = 99  # he has turned on everyone
    a["agents.side"][ALEXEY] = a["agents.side"][NICHOLAI]  # Alexey is not with her
    a["crew.alive"][[GORDON, NIKA]] = False
    alone = story._d12_odds(a, KIRA, CHRISTIAN)
    assert story._odds_against(a, KIRA, CHRISTIAN) == 0.0  # an even fight: no clear win is possible
    assert alone["lock-out"] > alone["kill"] and alone["lock-out"] > alone["disarm"]
    a["agents.side"][ALEXEY] = a["agents.side"][KIRA]  # Alexey stands with her (the film's B13)
    together = story._d12_odds(a, KIRA, CHRISTIAN)
    assert story._odds_against(a, KIRA, CHRISTIAN) == 1.0
    assert together["kill"] > 5 * together["lock-out"] and together["kill"] > together["disarm"]


def _two_against_the_betrayer(sim):
    """Kira and Christian, both armed, in Destiny; Alexey, armed and of her side, in Zvezda;
    Kira and Alexey both bent on killing Christian, who has betrayed everyone."""
    story, a = _after_the_trap(sim)
    a["crew.activity"][:] = 0
    a["hatch.open"][:] = True
    a["control.armed"][[KIRA, CHRISTIAN, ALEXEY]] = True
    a["agents.side"][CHRISTIAN] = 99
    a["agents.side"][ALEXEY] = a["agents.side"][KIRA]
    a["agents.suspicion"][CHRISTIAN] = 1.0
    a["agents.intent"][CHRISTIAN] = crisis.BETRAY
    a["crew.location"][[KIRA, CHRISTIAN]] = sim.world.index["destiny"]
    a["crew.location"][ALEXEY] = sim.world.index["zvezda"]
    for p in (KIRA, ALEXEY):
        a["agents.intent"][p], a["agents.target"][p] = crisis.KILL, CHRISTIAN
    return story, a


def test_two_against_one_wait_for_each_other(sim):
    """Kira, bent on stopping Christian and beside him, waits while Alexey is on his way to the
    same fight, and strikes once he is there."""
    story, a = _two_against_the_betrayer(sim)
    assert not [c for c in story.steps(sim.view(), KIRA) if c.name == "confront"]  # he is on his way
    a["crew.location"][ALEXEY] = sim.world.index["destiny"]
    assert [c.target for c in story.steps(sim.view(), KIRA) if c.name == "confront"] == ["Christian Campbell"]


def test_a_confidant_who_did_not_trust_the_defector_reconsiders_on_finding_her_killed(sim):
    story, a = _after_the_trap(sim)
    a["control.item_holder"][story.prize] = -1
    a["crew.activity"][:] = 0
    made = sim.state.facts["agents.decisions"]
    sim.state.facts["agents.decisions"] = made + ((sim.state.t_ms, "d7_trust", "Kira Foster", "neutral", True),)
    a["crew.alive"][NIKA] = a["crew.conscious"][NIKA] = False
    story.observe(sim.state, [], [])
    assert not _decided(sim, "d7_reconsider")  # she has not found the body: she does not know
    a["agents.seen_dead"][KIRA, NIKA] = True
    story.observe(sim.state, [], [])
    assert _decided(sim, "d7_reconsider") == ["Kira Foster"]
    story.observe(sim.state, [], [])
    assert _decided(sim, "d7_reconsider") == ["Kira Foster"]  # once


def test_one_departure_for_the_vehicle_when_everyone_gets_away(sim):
    """Five of one side all choosing to get away from the betrayer: one leads, two more are
    seated, and those left out do not start a second departure for the same three seats."""
    story, a = _after_the_trap(sim)
    a["crew.activity"][:] = 0
    a["agents.plot"][crisis.BETRAYER] = CHRISTIAN
    a["agents.side"][CHRISTIAN] = 99
    for p in (GORDON, NICHOLAI, ALEXEY, NIKA):
        a["agents.side"][p] = a["agents.side"][KIRA]
    a["agents.intent"][:] = crisis.NONE
    a["agents.intent"][CHRISTIAN] = crisis.BETRAY
    story.agents.decisions["d12_stop_christian"] = "lock-out"
    story._betrayal_seen(sim.state, CHRISTIAN, "disable")
    intent, target = a["agents.intent"].tolist(), a["agents.target"].tolist()
    leaving = [p for p in range(6) if intent[p] == crisis.LEAVE]
    leaders = {target[p] for p in leaving}
    assert len(leaders) == 1 and len(leaving) == story.seats
    assert all(intent[p] == crisis.GUARD for p in range(6) if p not in leaving and p != CHRISTIAN)


def test_no_one_waits_for_help_that_cannot_come(sim):
    """Alexey, bent on the same fight, is behind a hatch locked against him: Kira does not wait."""
    story, a = _two_against_the_betrayer(sim)
    destiny = sim.world.index["destiny"]
    k = story.link_ids.index("zarya-pma-1")
    a["hatch.open"][k] = False
    a["control.lock_side"][k] = sim.world.index["node-1"] if "node-1" in sim.world.index else sim.world.index["unity"]
    assert not story._reachable(a, int(a["crew.location"][ALEXEY]), destiny)
    assert [c.target for c in story.steps(sim.view(), KIRA) if c.name == "confront"] == ["Christian Campbell"]


def _stranding(sim):
    """Nicholai lured Gordon out and locked Quest's hatch into Unity behind him."""
    story, a = _story(sim), sim.state.arrays
    a["agents.plot"][crisis.LURER], a["agents.plot"][crisis.ASKED] = NICHOLAI, GORDON
    k = story.link_ids.index("unity-quest")
    a["hatch.open"][k] = False
    a["control.lock_side"][k] = sim.world.index["unity"]
    a["agents.intent"][NICHOLAI] = crisis.GUARD
    a["agents.plot"][crisis.STRANDED] = GORDON  # (what his lock, done, sets)
    return story, a, k


def test_one_locked_out_is_found_by_their_side_and_the_one_who_loves_them_decides(sim):
    """Found shut in the airlock, Gordon's side learns who did it, and Nika meets D6 as she does
    when he is pushed off: the attack on him, whatever its form, is what turns her (B8)."""
    story, a, k = _stranding(sim)
    quest = sim.world.index["quest"]
    a["crew.on_eva"][GORDON] = True  # still outside: no one of his side is in the airlock yet
    story.observe(sim.state, [], [])
    assert int(a["agents.plot"][crisis.LOST]) == -1 and not _decided(sim, "d6_defect")
    a["crew.on_eva"][GORDON] = False
    a["crew.location"][GORDON] = quest  # back in, and the hatch will not open
    story.observe(sim.state, [], [])
    assert int(a["agents.plot"][crisis.LOST]) == GORDON
    assert [dict(d)["by"] for _, kind, d in sim.state.log if kind == "agents" and dict(d).get("what") == "stranded"] \
        == ["Nicholai Pulov"]
    assert a["agents.suspicion"][KIRA] == a["agents.suspicion"][CHRISTIAN] == 1.0  # they know, and who
    assert _decided(sim, "d6_defect") == ["Weronika Vetrov"]
    story.observe(sim.state, [], [])
    assert len([1 for _, kind, d in sim.state.log if dict(d).get("what") == "stranded"]) == 1  # found once


def test_a_lock_the_lurer_did_not_make_is_not_taken_for_a_strand(sim):
    """Quest locked from Unity, but by no strand of Nicholai's: no stranding."""
    story, a, k = _stranding(sim)
    a["agents.plot"][crisis.STRANDED] = -1
    a["crew.location"][GORDON] = sim.world.index["quest"]
    story.observe(sim.state, [], [])
    assert int(a["agents.plot"][crisis.LOST]) == -1 and not _decided(sim, "d6_defect")


def test_the_strand_names_the_one_it_locked_out(sim):
    """Gordon sent Kira out (D3 send-other): the lurer's lock is on her, and she is the stranded."""
    story, a = _story(sim), sim.state.arrays
    a["agents.plot"][crisis.LURER], a["agents.plot"][crisis.ASKED] = NICHOLAI, GORDON
    a["agents.intent"][NICHOLAI], a["agents.target"][NICHOLAI] = crisis.STRAND, KIRA
    story.on_command(sim.state, NICHOLAI, "lock_hatch", "unity-quest")
    assert int(a["agents.plot"][crisis.STRANDED]) == KIRA
    k = story.link_ids.index("unity-quest")
    a["hatch.open"][k] = False
    a["control.lock_side"][k] = sim.world.index["unity"]
    a["crew.location"][KIRA] = sim.world.index["quest"]
    story.observe(sim.state, [], [])
    assert int(a["agents.plot"][crisis.LOST]) == KIRA
    assert [dict(d)["person"] for _, kind, d in sim.state.log if dict(d).get("what") == "stranded"] == ["Kira Foster"]


def test_a_strand_is_off_once_the_one_outside_is_back_in(sim):
    """Back inside before the lock: the lurer's strand has missed its moment (it would otherwise
    hold him, bent on violence, for the rest of the run)."""
    story, a = _story(sim), sim.state.arrays
    a["agents.intent"][NICHOLAI], a["agents.target"][NICHOLAI] = crisis.STRAND, GORDON
    a["agents.intent"][GORDON], a["agents.target"][GORDON] = crisis.EVA, 2
    story.on_command(sim.state, GORDON, "end_eva", "")
    assert int(a["agents.intent"][NICHOLAI]) == crisis.GUARD


def test_one_shut_in_forces_the_hatch_whatever_they_mean_to_do_after(sim):
    story, a, k = _stranding(sim)
    a["crew.location"][GORDON] = sim.world.index["quest"]
    a["agents.intent"][GORDON], a["agents.target"][GORDON] = crisis.KILL, NICHOLAI
    a["control.armed"][GORDON] = True
    assert [(c.name, c.target) for c in story.steps(sim.view(), GORDON)][0] == ("force_hatch", "unity-quest")


def test_the_one_who_helped_them_into_the_suit_finds_the_lock(sim):
    story, a, k = _stranding(sim)
    a["crew.on_eva"][GORDON] = True
    a["crew.location"][KIRA] = sim.world.index["quest"]
    a["crew.activity"][KIRA] = 0
    story.observe(sim.state, [], [])
    assert int(a["agents.plot"][crisis.LOST]) == GORDON


def test_those_shut_in_the_airlock_force_its_hatch(sim):
    story, a, k = _stranding(sim)
    a["crew.location"][GORDON] = sim.world.index["quest"]
    a["agents.intent"][GORDON] = crisis.NONE
    assert [(c.name, c.target) for c in story.steps(sim.view(), GORDON)] == [("force_hatch", "unity-quest")]
    a["control.lock_side"][k] = -1  # not locked: nothing to force
    assert "force_hatch" not in [c.name for c in story.steps(sim.view(), GORDON)]


def test_a_striker_whose_man_stays_clipped_on_meets_d5_again(sim):
    """The push needs him unclipped; once he is at the antenna still clipped on, the lurer
    chooses between locking him out and holding back (d5_reconsider), once."""
    from issim.station.people import SUIT_ENDURANCE_S

    story, a = _story(sim), sim.state.arrays
    a["agents.plot"][crisis.LURER], a["agents.plot"][crisis.ASKED] = NICHOLAI, GORDON
    a["agents.intent"][GORDON], a["agents.target"][GORDON] = crisis.EVA, 0  # the antenna, clipped on
    a["agents.intent"][NICHOLAI], a["agents.target"][NICHOLAI] = crisis.STRIKE, GORDON
    a["crew.on_eva"][GORDON] = a["crew.tethered"][GORDON] = True
    a["crew.suit_s"][GORDON] = SUIT_ENDURANCE_S - 10 * 60  # ten minutes out: not at the antenna yet
    story.observe(sim.state, [], [])
    assert not _decided(sim, "d5_reconsider")
    a["crew.suit_s"][GORDON] = SUIT_ENDURANCE_S - crisis.REACH_ANTENNA_MS / 1000.0
    story.observe(sim.state, [], [])
    assert _decided(sim, "d5_reconsider") == ["Nicholai Pulov"]
    assert int(a["agents.intent"][NICHOLAI]) in (crisis.STRAND, crisis.GUARD)
    story.observe(sim.state, [], [])
    assert _decided(sim, "d5_reconsider") == ["Nicholai Pulov"]  # once


def test_one_leaving_forces_a_hatch_held_against_them(sim):
    """The Russian segment, and the Soyuz beyond it, locked from Zarya: Kira, leaving, goes to
    the hatch and forces it; with no lock in the way she goes round by no hatch at all."""
    story, a = _after_the_trap(sim)
    k = story.link_ids.index("zarya-pma-1")
    a["hatch.open"][:] = True
    a["hatch.open"][k] = False
    a["control.lock_side"][k] = sim.world.index["zarya"]
    a["agents.intent"][KIRA], a["agents.target"][KIRA] = crisis.LEAVE, KIRA
    a["agents.plot"][crisis.CONFIDANT] = -1  # (a flight: no research to fetch first)
    a["crew.location"][KIRA] = sim.world.index["destiny"]
    first = story.steps(sim.view(), KIRA)
    assert [c.name for c in first] == ["move"]  # on her way to the held hatch
    a["crew.location"][KIRA] = sim.world.index["pma-1"]
    assert [(c.name, c.target) for c in story.steps(sim.view(), KIRA)] == [("force_hatch", "zarya-pma-1")]
    a["control.lock_side"][k] = -1
    assert "force_hatch" not in [c.name for c in story.steps(sim.view(), KIRA)]


def test_a_turncoat_is_not_killed_in_front_of_her_old_side(sim):
    """Christian, bent on killing Nika (D8), waits while Nicholai is in the module with her."""
    story, a = _after_the_trap(sim)
    zvezda = sim.world.index["zvezda"]
    a["crew.location"][[CHRISTIAN, NIKA, NICHOLAI]] = zvezda
    a["crew.activity"][:] = 0
    a["agents.intent"][CHRISTIAN], a["agents.target"][CHRISTIAN] = crisis.KILL, NIKA
    a["agents.intent"][NIKA], a["agents.target"][NIKA] = crisis.GUARD, KIRA
    a["control.armed"][CHRISTIAN] = True
    assert "confront" not in [c.name for c in story.steps(sim.view(), CHRISTIAN)]
    a["crew.location"][NICHOLAI] = sim.world.index["zarya"]
    assert "confront" in [c.name for c in story.steps(sim.view(), CHRISTIAN)]
    a["crew.location"][NICHOLAI] = zvezda
    a["agents.intent"][NIKA] = crisis.KILL  # she is bent on violence herself: no waiting
    assert "confront" in [c.name for c in story.steps(sim.view(), CHRISTIAN)]


def test_a_refused_truce_is_not_made_by_a_second_offer(sim):
    """The other side's leader answers a truce once: an offer from someone else later finds
    the same answer (before, a leader who had answered was passed over, and the truce made)."""
    from issim.agents import affect
    from issim.agents import goals as policy

    story, a = _story(sim), sim.state.arrays
    story.agents.decisions = {**story.agents.decisions, "offer_truce": "offer", "answer_truce": "refuse"}
    a["crew.activity"][:] = 0
    a["agents.goal"][:] = policy.HOLD
    a["agents.deadline_ms"][:] = sim.state.t_ms - 1  # the day is past and the station has not fallen
    a["agents.belief"][:, affect.FALL] = 0.1
    truces = lambda: [1 for _, kind, d in sim.state.log if kind == "agents" and dict(d).get("what") == "truce"]  # noqa: E731
    for _ in range(2):  # one of each side offers, and the other side's leader refuses
        turns._offer_truce(story, sim.state)
    answered = _decided(sim, "answer_truce")
    assert len(_decided(sim, "offer_truce")) == 2 and len(answered) == 2 and not truces()
    turns._offer_truce(story, sim.state)  # a third offers: the refusal of the leader asked stands
    assert len(_decided(sim, "offer_truce")) == 3 and _decided(sim, "answer_truce") == answered and not truces()


def test_the_stranded_answer_the_one_who_locked_them_out(sim):
    story, a, k = _stranding(sim)
    story.agents.decisions = {**story.agents.decisions, "d10_retaliate": "attack"}
    a["crew.location"][GORDON] = sim.world.index["quest"]
    story.observe(sim.state, [], [])
    story._d10_check(sim.state)
    whys = [dict(d)["why"] for _, kind, d in sim.state.log
            if kind == "agents" and dict(d).get("what") == "intent" and dict(d).get("person") == "Gordon Barrett"]
    assert whys[-1] == "Nicholai Pulov locked them out"  # not "knocked them off": he was never pushed


def test_a_report_to_the_ground_says_who_is_dead_and_who_left(sim):
    story, a = _story(sim), sim.state.arrays
    assert story._report(a, KIRA) == "Kira Foster: we hold the station."  # all six alive and aboard
    a["crew.alive"][NIKA] = False
    a["crew.location"][ALEXEY] = story.vehicle
    a["control.departed"][story.vehicle] = True
    assert story._report(a, KIRA) == ("Kira Foster: we hold the station. Dead: Weronika Vetrov. "
                                      "Left in the vehicle: Alexey Pulov.")
