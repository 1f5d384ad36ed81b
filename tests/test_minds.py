"""Minds move only on what each person could observe (issim.agents.affect, docs/crisis.md "Minds").

Each test puts people where the rule needs them on the real station (modules and hatches of
`iss`), makes one thing happen through the same entry points the run uses, and checks who
came to feel or believe it: those who could see it, and no one else.
"""

import numpy as np
import pytest

from issim.agents import affect
from issim.runner import Runner
from issim.scenario import load_scenario

KIRA, CHRISTIAN, GORDON, NICHOLAI, ALEXEY, NIKA = range(6)


@pytest.fixture()
def sim():
    spec = load_scenario("iss")
    return Runner(spec, seed=1, end_ms=spec.start_ms + 3_600_000).sim


def _agents(sim):
    return next(s for s in sim.subsystems if s.name == "agents")


def _put(sim, **where):
    idx = sim.world.index
    names = ("kira", "christian", "gordon", "nicholai", "alexey", "nika")
    for who, module in where.items():
        sim.state["crew.location"][names.index(who)] = idx[module]


def _hatch(sim, hatch, is_open):
    sim.state["hatch.open"][sim.world.link_index[hatch]] = is_open


def test_a_blow_behind_a_closed_hatch_is_not_seen(sim):
    a = sim.state.arrays
    _put(sim, nicholai="zvezda", gordon="zvezda", alexey="zarya", nika="nauka")
    _hatch(sim, "zarya-zvezda", True)
    _hatch(sim, "zvezda-nauka", False)
    before = a["agents.trust"].copy(), a["agents.fear"].copy()
    _agents(sim)._felt(sim.state, NICHOLAI, "confront", "Gordon Barrett", ())
    trust, fear = a["agents.trust"], a["agents.fear"]
    assert trust[GORDON, NICHOLAI] == 0.0 and a["agents.grievance"][GORDON, NICHOLAI] == 1.0  # the victim
    assert fear[ALEXEY] == pytest.approx(before[1][ALEXEY] + 0.3)  # across the open hatch: seen
    assert fear[NIKA] == before[1][NIKA] and (trust[NIKA] == before[0][NIKA]).all()  # behind a closed one: not
    assert fear[KIRA] == before[1][KIRA]  # in the US segment: not


def test_a_loyalty_turns_only_for_one_who_sees_their_own_side_strike(sim):
    a = sim.state.arrays
    _put(sim, nicholai="zvezda", gordon="zvezda", nika="zvezda", alexey="nauka")
    _hatch(sim, "zvezda-nauka", False)
    trust_in_gordon = a["agents.trust"][NIKA, GORDON]
    assert trust_in_gordon == affect.TRUST_BOND  # her bond
    loyal = a["agents.loyalty"].copy()
    _agents(sim)._felt(sim.state, NICHOLAI, "confront", "Gordon Barrett", ())
    assert a["agents.loyalty"][NIKA] == pytest.approx(loyal[NIKA] - 0.3 * trust_in_gordon)
    assert a["agents.loyalty"][ALEXEY] == loyal[ALEXEY]  # he did not see it
    assert sim.state.log[-1][1] == "agents" and dict(sim.state.log[-1][2])["what"] == "shaken"


def test_striking_an_enemy_turns_no_loyalty(sim):
    from issim.agents.crisis import KILL

    a = sim.state.arrays
    _put(sim, nicholai="zvezda", gordon="zvezda", nika="zvezda")
    a["agents.intent"][GORDON], a["agents.target"][GORDON] = KILL, NICHOLAI  # Gordon came to kill
    loyal = a["agents.loyalty"].copy()
    _agents(sim)._felt(sim.state, NICHOLAI, "confront", "Gordon Barrett", ())
    assert a["agents.loyalty"][NIKA] == loyal[NIKA]


def test_the_war_is_seen_from_a_window_and_then_told(sim):
    a = sim.state.arrays
    ag = _agents(sim)
    _put(sim, kira="cupola", christian="harmony", gordon="harmony", nicholai="zvezda", alexey="nauka", nika="zarya")
    from issim.station.people import NOMINAL

    a["crew.activity"][:] = NOMINAL
    sim.state.t_ms = int(a["agents.mind_ms"][0]) + affect.MINUTE_MS
    affect.tick(sim.state, ag.topology, ag.windows, sim.state.t_ms, lambda p: True, a["agents.wounded_by"],
                ag._log_mind)
    war = a["agents.belief"][:, affect.WAR]
    assert war[KIRA] == 1.0 and war[NICHOLAI] == 1.0  # the Cupola, Zvezda's windows
    assert war[CHRISTIAN] == 0.0 and war[ALEXEY] == 0.0 and war[NIKA] == 0.0  # no window
    _put(sim, christian="cupola")  # he joins her: she tells him
    sim.state.t_ms += affect.MINUTE_MS
    affect.tick(sim.state, ag.topology, ag.windows, sim.state.t_ms, lambda p: True, a["agents.wounded_by"],
                ag._log_mind)
    assert war[CHRISTIAN] >= 0.8 and war[GORDON] == 0.0


def test_a_body_is_found_only_where_it_can_be_seen(sim):
    a = sim.state.arrays
    ag = _agents(sim)
    from issim.station.people import NOMINAL

    a["crew.activity"][:] = NOMINAL
    _put(sim, nika="nauka", alexey="zvezda", nicholai="zarya")
    _hatch(sim, "zvezda-nauka", False)
    _hatch(sim, "zarya-zvezda", True)
    a["crew.alive"][NIKA] = False
    tick = lambda: affect.tick(sim.state, ag.topology, ag.windows, 0, lambda p: bool(a["crew.alive"][p]),
                               a["agents.wounded_by"], ag._log_mind)
    sim.state.t_ms = int(a["agents.mind_ms"][0]) + affect.MINUTE_MS
    tick()
    assert not a["agents.seen_dead"][:, NIKA].any()
    _hatch(sim, "zvezda-nauka", True)
    sim.state.t_ms += affect.MINUTE_MS
    fear = a["agents.fear"].copy()
    tick()
    assert a["agents.seen_dead"][ALEXEY, NIKA]  # across the hatch now open
    assert not a["agents.seen_dead"][NICHOLAI, NIKA]  # two modules away: one sees only across one hatch
    assert a["agents.fear"][ALEXEY] == pytest.approx(fear[ALEXEY] + 0.3)
    assert not a["agents.seen_dead"][KIRA, NIKA]


def test_the_fall_is_doubted_once_the_deadline_passes(sim):
    a = sim.state.arrays
    ag = _agents(sim)
    t0 = int(a["agents.mind_ms"][1])
    affect.told_order(a, GORDON, t0 + 24 * affect.HOUR_MS)
    step = lambda t: (setattr(sim.state, "t_ms", t),
                      affect.tick(sim.state, ag.topology, ag.windows, 0, lambda p: True,
                                  a["agents.wounded_by"], ag._log_mind))
    step(t0 + 18 * affect.HOUR_MS)
    assert a["agents.urgency"][GORDON] == pytest.approx(0.75)  # 18 of the 24 hours gone, believing
    assert a["agents.urgency"][KIRA] == 0.0  # never told
    step(t0 + 27 * affect.HOUR_MS)
    assert a["agents.belief"][GORDON, affect.FALL] < 0.5  # three hours past it, the orbit holding
    assert a["agents.fear"][GORDON] == pytest.approx(affect.FEAR_BASE)


def test_the_same_seed_gives_the_same_minds():
    spec = load_scenario("iss")
    out = []
    for _ in range(2):
        r = Runner(spec, seed=5, end_ms=spec.start_ms + 36 * 3_600_000)
        r.run()
        a = r.sim.state.arrays
        out.append(np.concatenate([a["agents.trust"].ravel(), a["agents.fear"], a["agents.belief"].ravel()]))
    assert np.array_equal(out[0], out[1])
