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
