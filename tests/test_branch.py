"""issim branch: a stored iss-canon run forked just before a decision point, with the other
choice, ends differently and names its parent; bad input stores nothing."""

from __future__ import annotations

import pytest

from issim.archive import Archive
from issim.cli import main
from issim.runner import branch, record_run
from issim.times import parse_iso


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    home = tmp_path_factory.mktemp("branch-home")
    return record_run("iss-canon", seed=1, hours=34, archive=home)


def _decided(record, key):
    return next(e["t"] for e in record.event_log() if e.get("what") == "decided" and e.get("key") == key)


def test_a_branch_with_the_other_choice_ends_otherwise_and_names_its_parent(parent):
    d3 = parse_iso(_decided(parent, "d3_eva"), "t")
    child = branch(parent, f"+{(d3 - parse_iso(parent.sim_start, 't')) // 1000 - 600}s", decisions={"d3_eva": "refuse"})
    assert child.parent_id == parent.id and child.change_summary == "d3_eva=refuse"
    assert child.change_details == {"decisions": {"d3_eva": "refuse"}}
    assert parse_iso(child.fork_at, "t") == d3 - 600_000
    assert child.status == "complete" and child.outcome != parent.outcome
    assert "Gordon Barrett" in child.outcome_details["survivors"]
    # the story changed at the decision: the parent's has the spacewalk trap, the child's does not
    kinds = lambda r: [b["kind"] for b in r.outcome_details["story"]]
    assert "pushed" in kinds(parent) and "pushed" not in kinds(child)
    # up to the fork the child is the parent, entry for entry; they part at the decision
    a, b = parent.event_log_entries(), child.event_log_entries()
    k = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
    assert parent.event_log()[k]["key"] == "d3_eva" and child.event_log()[k]["choice"] == "refuse"
    assert parse_iso(parent.event_log()[k]["t"], "t") > parse_iso(child.fork_at, "t")


def test_a_branch_with_nothing_changed_is_its_parent(parent):
    child = branch(parent, "+20h")
    assert child.event_log_sha256 == parent.event_log_sha256 and child.parent_id == parent.id


@pytest.mark.parametrize("args, source", [
    (("--at", "+99h"), "--at"),
    (("--at", "yesterday"), "--at"),
    (("--at", "+20h", "--set", "d3_eva=maybe"), "--set"),
    (("--at", "+20h", "--set", "d99=go"), "--set"),
    (("--at", "+32h", "--set", "d1_comply=refuse"), "--set"),  # already decided at 30.5 h
    (("--at", "+20h", "--set", "d3_eva"), "--set"),
    (("--at", "+20h", "--as", "Nobody=idle"), "--as"),
    (("--at", "+20h", "--as", "Kira Foster=genius"), "--as"),
])
def test_bad_branch_input_is_one_line_and_stores_nothing(parent, capsys, args, source):
    arc = Archive.open(parent.archive.root)
    before = len(arc.rows())
    status = main(["branch", str(parent.id), "--archive", str(parent.archive.root), *args])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert len(captured.err.splitlines()) == 1 and captured.err.startswith(f"issim: error: {source}")
    assert len(Archive.open(parent.archive.root).rows()) == before


def test_runs_and_show_name_the_parent(parent, capsys):
    child = branch(parent, "+21h", policies={"Kira Foster": "idle"})
    root = str(parent.archive.root)
    assert main(["runs", "--archive", root]) == 0
    assert f"{child.id} ← {parent.id}" in capsys.readouterr().out
    assert main(["show", str(child.id), "--archive", root]) == 0
    shown = capsys.readouterr().out
    assert f"from run {parent.id}" in shown
    cls = child.outcome_details["ending_class"]
    assert "ending class" in shown and f"{cls['id']} ({cls['label']})" in " ".join(shown.split())


def test_run_as_gives_a_person_another_policy(capsys):
    import json

    assert main(["run", "standoff", "--hours", "10", "--as", "Maya Torres=idle", "--no-store", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    actors = {h["actor"] for h in summary["control"]["history"]}
    assert "Maya Torres" not in actors and actors & {"Pavel Orlov", "Daniel Reyes"}


@pytest.mark.parametrize("value", ["Maya=idle", "Maya Torres=genius", "Maya Torres"])
def test_run_as_bad_input_is_one_line(capsys, value):
    status = main(["run", "standoff", "--hours", "1", "--as", value])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert len(captured.err.splitlines()) == 1 and captured.err.startswith("issim: error: --as")


def test_a_branch_of_a_branch_replays_its_whole_lineage(parent):
    d3 = parse_iso(_decided(parent, "d3_eva"), "t") - parse_iso(parent.sim_start, "t")
    child = branch(parent, f"+{d3 // 1000 - 600}s", decisions={"d3_eva": "refuse"})
    # forked after the child's own fork, and before it: either way, with no change, it is the child
    after = branch(child, f"+{d3 // 1000 + 3600}s")
    before = branch(child, "+20h")
    assert after.event_log_sha256 == before.event_log_sha256 == child.event_log_sha256
    assert after.parent_id == before.parent_id == child.id


def test_a_branch_of_a_run_started_with_other_policies_keeps_them(tmp_path):
    from issim.runner import Runner

    run = Runner("standoff", hours=12, policies={"Maya Torres": "idle"})
    stored = run.store(tmp_path)
    assert stored.change_details == {"policies": {"Maya Torres": "idle"}}
    again = branch(stored, "+9h30m")
    assert again.event_log_sha256 == stored.event_log_sha256


def test_a_run_with_a_policy_of_ones_own_cannot_be_branched(tmp_path):
    from issim.agents.policies import Idle
    from issim.errors import InputError
    from issim.runner import Runner

    class Mine(Idle):
        pass

    stored = Runner("standoff", hours=1, policies={"Maya Torres": Mine()}).store(tmp_path)
    assert "custom:" in stored.change_summary
    with pytest.raises(InputError) as err:
        branch(stored, "+30m")
    assert err.value.source == "RUN" and "cannot be replayed" in err.value.message
