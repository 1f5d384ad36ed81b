"""Coverage-guided fuzzing (atheris, fuzz/fuzz_inputs.py) of the element-set and scenario
parsers, bounded in time: no input makes them raise anything but InputError. The kept
corpus (fuzz/corpus/) is read, never written: what a run finds goes to a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 12


@pytest.mark.slow
@pytest.mark.parametrize("target", ["elements", "scenario"])
def test_fuzzing_the_parsers_finds_no_crash(target, tmp_path):
    pytest.importorskip("atheris", reason="atheris is in the test extra: make test installs it")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    (tmp_path / "new").mkdir()
    out = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "fuzz_inputs.py"), target, str(tmp_path / "new"),
         str(ROOT / "fuzz" / "corpus" / target), f"-max_total_time={SECONDS}", f"-artifact_prefix={tmp_path}/"],
        capture_output=True, text=True, timeout=SECONDS * 10, env=env, cwd=tmp_path,
    )
    log = out.stdout + out.stderr
    crashes = list(tmp_path.glob("crash-*"))
    assert out.returncode == 0 and not crashes, log[-3000:]
    runs = int(log.rsplit("Done ", 1)[1].split()[0])
    assert runs > 1000  # it really ran


def test_a_stray_carriage_return_in_omm_csv_is_one_input_error():
    """What the fuzzer found first: the csv module's own error escaped the CSV reader."""
    from issim.errors import InputError
    from issim.orbit import parse_elements

    raw = (ROOT / "fuzz" / "corpus" / "elements" / "csv-stray-cr").read_bytes()
    with pytest.raises(InputError) as err:
        parse_elements(raw, "stray.csv")
    assert err.value.source == "stray.csv" and "not valid CSV" in err.value.message
