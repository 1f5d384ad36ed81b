"""Shared test settings: every test stores its runs in a private archive, never in ./runs."""

import pytest


@pytest.fixture(autouse=True)
def _private_run_archive(tmp_path_factory, monkeypatch):
    """``issim run`` stores each run by default; point it (and subprocesses) at a temporary archive."""
    monkeypatch.setenv("ISSIM_HOME", str(tmp_path_factory.mktemp("issim-home")))
