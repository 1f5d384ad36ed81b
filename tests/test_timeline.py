"""The live timeline of ``issim run``: notable entries only, recurring ones counted."""

from issim.cli import main
from issim.runner import Runner
from issim.scenario import build_simulation
from issim.scenario.timeline import REPEATS_SHOWN, Timeline, describe


def test_routine_and_duplicate_entries_are_left_out():
    sim = Runner("standoff", hours=30)  # through an evening: the crew go to bed, their minds awake
    sim.run()
    lines = [line for e in sim.state.log if (line := describe(e))]
    kinds = {e[1] for e in sim.state.log}
    assert {"crew", "command", "agents", "comms"} <= kinds
    assert any(dict(e[2]).get("why") == "schedule" for e in sim.state.log)
    assert not any("schedule" in line for line in lines)  # the daily moves are routine
    assert not any(" event: command " in line for line in lines)  # a command's own dispatch
    assert any("Pavel Orlov: change_credentials ROS — done" in line for line in lines)
    assert any("receives the order 'take-control' from moscow" in line for line in lines)


def test_recurring_entries_are_shown_a_few_times_then_counted():
    sim = build_simulation("power-split")
    sim.run(sim.start_ms + 86_400_000)
    timeline = Timeline()
    lines = list(timeline.new_lines(sim.state.log))
    downs = [line for line in lines if "bus_down ROS" in line]
    assert len(downs) == REPEATS_SHOWN
    hidden = timeline.hidden_summary()
    assert any("bus_down ROS" in h for h in hidden)
    assert list(timeline.new_lines(sim.state.log)) == []  # nothing twice


def test_run_prints_the_timeline(capsys):
    assert main(["run", "standoff", "--hours", "10"]) == 0
    out = capsys.readouterr().out
    assert "change_credentials" in out and "lock_hatch zarya-pma-1" in out


def test_every_decision_point_is_shown_and_only_its_repeats_are_counted():
    """A person meets many decision points: each is a line; the same one met again is counted."""
    log = [(i * 60_000, "agents", (("choice", "go"), ("drawn", True), ("key", key), ("person", "Gordon Barrett"),
                                   ("what", "decided"))) for i, key in enumerate(
        ["d1_comply", "d1_disclose_order", "d1_means", "d3_eva", "d10_retaliate"] + ["flee"] * (REPEATS_SHOWN + 2))]
    timeline = Timeline()
    lines = list(timeline.new_lines(log))
    assert len(lines) == 5 + REPEATS_SHOWN
    assert [h for h in timeline.hidden_summary()] == ["… and 2 more 'agents: decided Gordon Barrett flee' not shown"]


def test_run_prints_the_story_beats(capsys):
    assert main(["run", "iss-canon", "--hours", "36"]) == 0
    out = capsys.readouterr().out
    assert "Ending class:" in out and "  pushed  Nicholai Pulov → Gordon Barrett" in out
