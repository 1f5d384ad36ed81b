"""The run archive: every run stored, and read back, compared, exported and reported.

- :class:`Archive` — a folder of runs with its SQLite catalogue (:mod:`.catalogue`);
  :meth:`Archive.recording` stores a run as it happens (:mod:`.recording`).
- :class:`RunRecord` — a stored run; its telemetry, track, events and commands as pandas
  tables (:mod:`.record`). :func:`open_run` is the short way to one.
- :func:`export_run`, :func:`diff_runs`, :func:`write_report` — the files and answers
  behind ``issim export``, ``issim diff`` and ``issim report``.

The layout on disk is described in ``docs/archive.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .catalogue import Archive, StoreError, default_home
from .record import RunRecord


def open_run(run: "int | str" = "last", archive: "str | Path | None" = None) -> RunRecord:
    """A stored run by id (``12``), folder name (``000012-nominal``) or ``"last"``.

    ``archive`` is the archive folder; default ``$ISSIM_HOME``, else ``./runs``.
    """
    return Archive.open(archive).get(run if isinstance(run, int) else str(run))


def export_run(record: RunRecord, fmt: str, out: "str | Path", form: str = "wide", channels=None) -> list[Path]:
    from .export import export_run as _export

    return _export(record, fmt, out, form=form, channels=channels)


def diff_runs(a: RunRecord, b: RunRecord) -> dict:
    from .diff import diff_runs as _diff

    return _diff(a, b)


def write_report(record: RunRecord, out: "str | Path | None" = None, at: Optional[int] = None) -> Path:
    from .report import write_report as _write

    return _write(record, out, at)


__all__ = ["Archive", "RunRecord", "StoreError", "default_home", "diff_runs", "export_run", "open_run",
           "write_report"]
