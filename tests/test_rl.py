"""issim.rl: the Parallel environment and the one-person Gymnasium environment pass their
APIs' checkers, replay exactly, mask what the pipeline would refuse, and show a person
only what they could know (issue 15)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("pettingzoo")
pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402
from pettingzoo.test import parallel_api_test  # noqa: E402

from issim.rl import CrewEnv, PersonEnv  # noqa: E402
from issim.scenario import parse_scenario  # noqa: E402

# The film's crisis brought to its first minutes: the war at +5 min, the orders at +10 min.
SHORT = """
extends = "iss"

[scenario]
name = "iss-short"
title = "the film's crisis in its first minutes"
days = 0.25

[agents]
violence = true
interval_s = 300
crisis_interval_s = 60
prize = "research"
war_at = "+5m"

[[events]]
at = "+10m"
actor = "houston"
action = "send_message"
target = "Gordon Barrett"
args = { id = "order-houston", text = "order: take-control. Take control of the ISS by any means necessary." }

[[events]]
at = "+10m"
actor = "moscow"
action = "send_message"
target = "Nicholai Pulov"
args = { id = "order-moscow", text = "order: take-control. Take control of the station by any means necessary." }
"""

# Three people: Bob at the US end of the boundary hatch, Ruslan and Ann beyond it in Zarya.
SMALL = """
[scenario]
name = "sight"
title = "who sees what"
start = 2025-03-10T00:00:00Z
days = 0.1

[station]
closed_hatches = {closed}

[[crew]]
name = "Ruslan"
agency = "roscosmos"
module = "zarya"

[[crew]]
name = "Ann"
agency = "nasa"
module = "zarya"

[[crew]]
name = "Bob"
agency = "nasa"
module = "pma-1"
{events}
"""

CUT = "".join(f'\n[[events]]\nat = "+1m"\naction = "cut_link"\ntarget = "{k}"\n'
              for k in ("usos-s-band", "usos-ku-band", "ros-regul", "ros-lira"))
TO_ANN = """
[[events]]
at = "+2m"
actor = "houston"
action = "send_message"
target = "Ann"
args = { id = "note", text = "order: stay where you are" }
"""


def short(**kw) -> CrewEnv:
    spec = parse_scenario(SHORT.encode(), "iss-short.toml")
    kw.setdefault("start", "+10m")
    return CrewEnv(spec, **kw)


def small(closed: bool = True, events: str = "", **kw) -> CrewEnv:
    text = SMALL.format(closed='["zarya-pma-1"]' if closed else "[]", events=events)
    kw.setdefault("others", {"Ann": "idle"})
    kw.setdefault("learners", ["Bob", "Ruslan"])
    return CrewEnv(parse_scenario(text.encode(), "sight.toml"), **kw)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_the_parallel_environment_passes_pettingzoos_api_test():
    env = short()
    parallel_api_test(env, num_cycles=12)
    assert env.possible_agents == list(env.sim.people) and len(env.possible_agents) == 6


def test_the_one_person_environment_passes_gymnasiums_checker():
    import gymnasium

    spec = parse_scenario(SHORT.encode(), "iss-short.toml")
    env = gymnasium.make("issim/Person-v0", scenario=spec, person="Gordon Barrett", start="+10m", max_steps=8).unwrapped
    assert isinstance(env, PersonEnv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    assert not [str(w.message) for w in caught if "gymnasium" in (w.filename or "")], caught
    obs, info = env.reset(seed=4)
    assert obs in env.observation_space and np.array_equal(info["action_mask"], obs["action_mask"])
    assert env.action_masks()[0]  # wait is always allowed


def _episode(env: CrewEnv, seed: int, steps: int, choose):
    obs, infos = env.reset(seed=seed)
    trace = [obs]
    rewards = []
    for n in range(steps):
        if not env.agents:
            break
        acts = {a: choose(n, a, infos[a]["action_mask"]) for a in env.agents}
        obs, rew, term, trunc, infos = env.step(acts)
        trace.append(obs)
        rewards.append(rew)
    return trace, rewards, env.runner.event_log_sha256()


def _masked_random(seed):
    rng = np.random.default_rng(seed)
    return lambda n, agent, mask: int(rng.choice(np.flatnonzero(mask)))


def test_the_same_seed_and_actions_give_the_same_episode():
    env = short(max_steps=15)
    a = _episode(env, 3, 15, _masked_random(0))
    b = _episode(env, 3, 15, _masked_random(0))
    assert a[2] == b[2]  # the event log, digest for digest
    assert a[1] == b[1]
    assert len(a[0]) == len(b[0]) and all(
        x.keys() == y.keys() and all(_same(x[p], y[p]) for p in x) for x, y in zip(a[0], b[0]))
    fresh = _episode(short(max_steps=15), 3, 15, _masked_random(0))  # a new environment, not a warmed one
    assert fresh[2] == a[2] and fresh[1] == a[1]
    other = _episode(env, 3, 15, _masked_random(1))  # other actions: another episode
    assert other[2] != a[2]
    # without a seed: the scenario's, then seeds drawn from it, the same in every environment
    seeds = [[(e.reset(), e.seed)[1] for _ in range(2)] for e in (short(), short())]
    assert seeds[0] == seeds[1] and seeds[0][0] == 1


def test_masks_are_what_the_pipeline_would_allow():
    env = short(max_steps=6)
    obs, infos = env.reset(seed=5)
    choose = _masked_random(2)
    checked = 0
    for _ in range(4):
        sim = env.sim
        for agent in env.agents:
            observation = sim.observe(agent)
            mask = infos[agent]["action_mask"]
            assert np.array_equal(mask, obs[agent]["action_mask"])
            for k in range(1, len(env.table)):
                r = observation.check(env.table[k].of(agent))
                if mask[k]:
                    assert r.result != "refused", (agent, env.table[k].label, r.message)
                else:
                    assert r.result == "refused" and r.stage == "authority", (agent, env.table[k].label, r)
                checked += 1
        obs, _, _, _, infos = env.step({a: choose(0, a, infos[a]["action_mask"]) for a in env.agents})
    assert checked > 4000
    # a masked action forced through the step is refused by the pipeline, with its reason
    agent = env.agents[0]
    k = int(np.flatnonzero(infos[agent]["action_mask"] == 0)[0])
    _, _, _, _, infos = env.step({agent: k})
    assert infos[agent]["result"] == "refused" and infos[agent]["reason"]


def _run(env: CrewEnv, plan: dict[str, list[str]], steps: int, seed: int = 1) -> list[dict]:
    """Step ``env`` with each person's planned action labels (then wait); the observations."""
    obs, infos = env.reset(seed=seed)
    seen = [obs]
    for n in range(steps):
        acts = {}
        for agent in env.agents:
            labels = plan.get(agent, [])
            k = env.table.index[labels[n]] if n < len(labels) else 0
            assert infos[agent]["action_mask"][k], (agent, env.table[k].label)
            acts[agent] = k
        obs, _, _, _, infos = env.step(acts)
        seen.append(obs)
    return seen


# Acts with no physical trace beyond Zarya (a move would: Ruslan's place changes the
# Russian segment's electrical load, which the US laptops show through the converters).
ACTS = {"Ruslan": ["take_weapon", "confront Ann", "drop_weapon"]}


def test_what_happens_behind_a_closed_hatch_is_not_in_the_observation():
    quiet = _run(small(closed=True), {}, 6)
    acts = _run(small(closed=True), ACTS, 6)
    assert all(_same(q["Bob"], a["Bob"]) for q, a in zip(quiet, acts))
    assert not all(_same(q["Ruslan"], a["Ruslan"]) for q, a in zip(quiet, acts))  # it did happen
    # the same acts across the open hatch: Bob sees Ruslan leave Zarya
    quiet = _run(small(closed=False), {}, 6)
    acts = _run(small(closed=False), ACTS, 6)
    assert not all(_same(q["Bob"], a["Bob"]) for q, a in zip(quiet, acts))


def test_the_other_sides_laptops_are_not_in_the_observation():
    env = small(closed=True)
    obs, _ = env.reset(seed=1)
    bob, ruslan = obs["Bob"], obs["Ruslan"]
    assert bob["laptop_reach"].tolist() == [1, 0] and ruslan["laptop_reach"].tolist() == [0, 1]
    from issim.sim.observe import laptop_channels

    shown = laptop_channels(env.sim)
    usos = {c.key for c in shown["USOS"]}
    ros_only = [c for c in shown["ROS"] if c.key not in usos]
    assert ros_only
    slots = [env.encoder.channels.index(c.key) for c in ros_only]
    assert not bob["laptops"][slots].any()
    # change every reading only the Russian laptops show: Bob's observation stays, Ruslan's moves
    a = env.sim.state.arrays
    for c in ros_only:
        arr = a[c.array]
        if arr.dtype.kind == "f":
            arr[c.index] = arr[c.index] + 1.0
    after = {p: env.observation(p) for p in ("Bob", "Ruslan")}
    assert _same(bob, after["Bob"])
    assert not np.array_equal(ruslan["laptops"], after["Ruslan"]["laptops"])


def test_a_message_not_yet_delivered_is_not_in_the_observation():
    plain = _run(small(closed=True, events=CUT, learners=["Ann"], others={}), {}, 8)
    sent = _run(small(closed=True, events=CUT + TO_ANN, learners=["Ann"], others={}), {}, 8)
    assert all(_same(p["Ann"], s["Ann"]) for p, s in zip(plain, sent))  # queued for a contact that never comes
    assert not sent[-1]["Ann"]["messages"][:, 0].any()
    # with the links up it is delivered, and then it is in her observation
    env = small(closed=True, events=TO_ANN, learners=["Ann"], others={})
    got = _run(env, {}, 8)
    assert got[-1]["Ann"]["messages"][:, 0].sum() == 1
    houston = 3 + env.encoder.parties.index("houston")
    assert got[-1]["Ann"]["messages"][0, 2] == 1 and got[-1]["Ann"]["messages"][0, houston] == 1


def test_rewards_termination_and_truncation():
    with pytest.raises(ValueError, match="no reward"):
        short(reward="glory")
    with pytest.raises(ValueError, match="whole number of frames"):
        short(decision_s=15)
    for reward in ("faction", "survival", "crew"):
        env = short(reward=reward, max_steps=3)
        env.reset(seed=2)
        gordon = env.table.index["change_credentials USOS"]  # the US laptops for the US alone
        for n in range(3):
            _, rew, term, trunc, _ = env.step({a: gordon if (n, a) == (0, "Gordon Barrett") else 0
                                               for a in env.agents})
        assert all(np.isfinite(r) for r in rew.values())
        if reward == "faction":  # the share of the systems one's side alone commands: none at the start
            assert all(0.0 <= r <= 1.0 for r in rew.values())
            assert rew["Gordon Barrett"] > 0 and rew["Kira Foster"] == rew["Gordon Barrett"]
        else:
            assert all(r == 0.0 for r in rew.values())  # no one died in three minutes of waiting
        assert all(trunc.values()) and not any(term.values()) and env.agents == []
    # one step is decision_s of simulated time
    env = short(decision_s=120, max_steps=2)
    env.reset(seed=2)
    t0 = env.sim.t_ms
    env.step({a: 0 for a in env.agents})
    assert env.sim.t_ms - t0 == 120_000
