"""Crew agents: orders by comms, one command path, the standoff, decisions as parameters."""

from pathlib import Path

import numpy as np
import pytest

from issim.runner import Runner
from issim.scenario import build_simulation
from issim.agents import goals as policy
from issim.control import Command, history
from issim.errors import InputError
from issim.scenario import load_scenario
from issim.sim import Simulation

H = 3_600_000
LINKS = ("usos-s-band", "usos-ku-band", "ros-regul", "ros-lira")
US = {"Maya Torres", "Daniel Reyes", "Sofia Lindqvist", "Kenji Watanabe"}
RU = {"Pavel Orlov", "Irina Volkova", "Dmitri Sokolov"}


def _run(sim, hours):
    sim.run(sim.start_ms + round(hours * H))
    return sim


def _agent_commands(sim):
    return [h for h in history(sim.state) if h["source"] == "agent"]


def _standoff(tmp_path, decisions: str = "", name="variant"):
    path = Path(tmp_path) / f"{name}.toml"
    path.write_text(f'extends = "standoff"\n\n[scenario]\nname = "{name}"\n\n[decisions]\n{decisions}\n')
    return Runner(str(path))


@pytest.fixture(scope="module")
def first_hours():
    return _run(Runner("standoff"), 10)


def test_orders_act_only_once_delivered():
    sim = Runner("standoff")
    _run(sim, 8.5)
    for link in LINKS:  # nothing gets through when the orders are sent
        assert sim.command(Command.of("cut_link", "operator", link)).result == "done"
    _run(sim, 9.5)
    assert int(sim.state["comms.messages"][0]) == 2  # both orders wait
    assert _agent_commands(sim) == []
    assert not sim.state["agents.goal"].any()
    assert sim.state.facts["agents.orders"] == ()
    for link in LINKS:
        assert sim.command(Command.of("restore_link", "operator", link)).result == "done"
    _run(sim, 9.95)
    delivered = [e for e in sim.event_log() if e["kind"] == "comms" and e.get("what") == "delivered"]
    assert {e["id"] for e in delivered} == {"order-houston", "order-moscow"}
    first_delivery = min(t for t, *_ in sim.state.facts["agents.orders"])
    acts = _agent_commands(sim)
    assert acts and all(h["t_ms"] >= first_delivery for h in acts)
    assert first_delivery >= sim.start_ms + 9.5 * H


def test_agents_act_only_through_the_pipeline(first_hours):
    sim = first_hours
    acts = _agent_commands(sim)
    assert len(acts) >= 4
    crew = US | RU
    assert all(h["source"] == "agent" for h in history(sim.state) if h["actor"] in crew)
    done = sum(1 for h in acts if h["result"] == "done")
    assert int(sim.state["agents.acts"].sum()) == done
    view = sim.view()
    with pytest.raises(ValueError):
        view["hatch.open"][:] = True
    with pytest.raises(TypeError):
        view.facts["agents.orders"] = ()


def test_a_policy_tempted_to_write_cannot(monkeypatch):
    sim = Runner("standoff")
    tried = []
    real = policy.candidates

    def tempted(view, m, person, violence=False):
        try:
            view["power.converters_on"][0] = False
            view["agents.goal"][person] = 0
        except ValueError:
            tried.append(person)
        return real(view, m, person, violence)

    monkeypatch.setattr(policy, "candidates", tempted)
    _run(sim, 9.2)
    assert tried
    assert all(h["command"] != "converters_off" or h["source"] == "agent" for h in history(sim.state))
    changed = [h for h in history(sim.state) if h["command"] == "converters_off" and h["result"] == "done"]
    assert bool(sim.state["power.converters_on"][0]) == (not changed)


def test_standoff_first_hours_close_lock_and_change_credentials(first_hours):
    sim = first_hours
    done = [h for h in _agent_commands(sim) if h["result"] == "done"]
    hatch = sim.world.link_index["zarya-pma-1"]
    assert not sim.state["hatch.open"][hatch]
    assert sim.state["control.lock_side"][hatch] >= 0
    for side in (US, RU):
        assert any(h["command"] in ("close_hatch", "lock_hatch") and h["actor"] in side for h in done)
        assert any(h["command"] == "change_credentials" and h["actor"] in side for h in done)
    creds = sim.state["control.credentials"]
    assert creds.sum(axis=1).tolist() == [1, 1]  # each segment's laptops accept one side only
    assert any(h["command"] == "converters_off" and h["actor"] in US for h in done)
    assert any(h["command"] == "stop_desat" and h["actor"] in RU for h in done)


def test_standoff_never_attempts_violence(first_hours):
    sim = _run(first_hours, 24)
    names = {h["command"] for h in _agent_commands(sim)}
    assert names and not names & policy.VIOLENT
    assert "confront" not in {h["command"] for h in history(sim.state)}


def test_same_seed_same_event_log():
    a = _run(Runner("standoff"), 11)
    b = _run(Runner("standoff"), 11)
    assert a.event_log_sha256() == b.event_log_sha256()
    assert len(_agent_commands(a)) > 0


def test_a_fixed_refusal_changes_what_happens(tmp_path, first_hours):
    sim = _run(_standoff(tmp_path, 'd2_comply = "refuse"'), 10)
    ru = [h for h in _agent_commands(sim) if h["actor"] in RU]
    assert not any(h["command"] in ("stop_desat", "refuse_burns", "thrusters_off") for h in ru)
    assert sim.state["att.desat_allowed"][0]
    us_first = min(h["t_ms"] for h in _agent_commands(sim) if h["actor"] in US)
    assert all(h["t_ms"] > us_first for h in ru)  # they only react to what they see
    decided = {(k, n): c for _, k, n, c, _ in sim.state.facts["agents.decisions"]}
    assert decided[("d2_comply", "Pavel Orlov")] == "refuse"
    complied = [h for h in _agent_commands(first_hours) if h["actor"] in RU]
    assert {h["command"] for h in complied} != {h["command"] for h in ru}


def test_chance_decisions_draw_from_the_deciders_stream(tmp_path):
    sim = _run(_standoff(tmp_path, 'd1_comply = "chance"\nd2_comply = "chance"'), 9.2)
    drawn = [d for d in sim.state.facts["agents.decisions"] if d[1] in ("d1_comply", "d2_comply")]
    assert len(drawn) == 2 and all(d[4] for d in drawn)


@pytest.mark.parametrize("line, key", [('d99_fly_home = "yes"', "d99_fly_home"),
                                       ('d2_comply = "maybe"', "d2_comply")])
def test_a_bad_decision_is_refused_at_build(tmp_path, line, key):
    with pytest.raises(InputError) as err:
        _standoff(tmp_path, line, name="bad")
    assert err.value.source.endswith(f"bad.toml:decisions.{key}")
    assert "\n" not in str(err.value)


def test_standoff_scenario_declares_no_violence():
    sc = load_scenario("standoff")
    assert sc.agents.violence is False
    assert sc.decisions["d1_comply"] == "comply" and sc.decisions["d2_comply"] == "comply"
    assert np.isclose(sc.scenario.days, 14)
