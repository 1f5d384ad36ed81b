"""Coverage-guided fuzzing (atheris) of the two parsers every user file goes through.

    python fuzz/fuzz_inputs.py elements fuzz/corpus/elements -max_total_time=60
    python fuzz/fuzz_inputs.py scenario fuzz/corpus/scenario -max_total_time=60

The target is the parser plus the checks behind it: element sets (TLE, OMM JSON, CSV, XML;
``issim.orbit.parse_elements``, every set also propagated once) and scenarios
(``issim.scenario.parse_scenario``). Any exception other than :class:`issim.errors.InputError`
is a crash: libFuzzer stops, saves the input as ``crash-*`` and the process exits non-zero.
The corpus folders are kept in the repository so each run starts from what earlier runs found.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from issim.errors import InputError
    from issim.orbit import parse_elements, propagate
    from issim.scenario import parse_scenario


def elements(data: bytes) -> None:
    try:
        sets = parse_elements(data, "fuzz")
    except InputError:
        return
    for s in sets[:3]:
        propagate(s, [s.epoch_ms])


def scenario(data: bytes) -> None:
    try:
        parse_scenario(data, "fuzz.toml")
    except InputError:
        return


if __name__ == "__main__":
    target = {"elements": elements, "scenario": scenario}[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()
