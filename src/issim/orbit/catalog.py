"""Where element sets come from: the bundled history, the user's downloads, a file.

The default for a given time is the set, among the bundled ones and those fetched with
``issim elements update``, whose epoch is nearest that time. A set far from the time
asked about still works, but SGP4's error grows by kilometres a day away from the epoch,
so issim warns (once per set) when the gap exceeds :data:`STALE_AFTER_DAYS`.
"""

from __future__ import annotations

import os
import warnings
from importlib import resources
from pathlib import Path

import platformdirs

from ..errors import FetchError, InputError
from ..times import MS_PER_DAY, format_iso
from .elements import ElementSet, load_elements, nearest, parse_elements, write_omm_json

STALE_AFTER_DAYS = 14.0
CELESTRAK_GP_URL = "https://celestrak.org/NORAD/elements/gp.php?CATNR=25544&FORMAT=json"
BUNDLED_FILES = ("iss-omm-2024-09-to-2025-03.json", "iss-tle-history.tle")

_warned: set[tuple[str, int]] = set()


class StaleElementsWarning(UserWarning):
    """The element set's epoch is far from the time computed."""


def user_elements_path() -> Path:
    """Where ``issim elements update`` keeps what it downloads (``$ISSIM_DATA_DIR`` wins)."""
    base = os.environ.get("ISSIM_DATA_DIR") or platformdirs.user_data_dir("issim", appauthor=False)
    return Path(base) / "elements" / "iss.json"


_bundled: tuple[ElementSet, ...] = ()
_saved: list = [None, ()]  # the user's saved sets: [(path, mtime, size) read, the sets read from it]


def bundled_sets() -> list[ElementSet]:
    """Every bundled ISS element set, oldest first (read once a process: the bundled files
    do not change, and a run would otherwise parse a thousand records twice)."""
    global _bundled
    if not _bundled:
        folder = resources.files("issim.data").joinpath("elements")
        sets: list[ElementSet] = []
        for name in BUNDLED_FILES:
            sets += parse_elements(folder.joinpath(name).read_bytes(), f"bundled:{name}")
        _bundled = tuple(sorted(sets, key=lambda s: s.epoch_ms))
    return list(_bundled)


def available_sets(path: str | Path | None = None) -> list[ElementSet]:
    """The sets in ``path`` if given; otherwise the bundled ones plus the user's downloads."""
    if path is not None:
        return load_elements(path)
    sets = bundled_sets()
    return sorted(sets + saved_sets(), key=lambda s: s.epoch_ms)


def saved_sets() -> list[ElementSet]:
    """The sets ``issim elements update`` saved (none if it never ran).

    A saved set failing today's checks (kept by an older issim) is an error naming the
    file, with the way out: issim cannot tell which of its sets to trust.
    """
    path = user_elements_path()
    try:
        stat = path.stat()
    except OSError:  # none saved (or unreadable: as before, the reader says why)
        if not path.exists():
            return []
        stat = None
    key = (str(path), stat.st_mtime_ns, stat.st_size) if stat is not None else None
    if key is not None and _saved[0] == key:  # the same file as last time, unchanged: its sets, read once
        return list(_saved[1])
    try:
        sets = load_elements(path)
        if key is not None:
            _saved[:] = [key, tuple(sets)]
        return sets
    except InputError as exc:
        raise InputError(exc.source, f"{exc.message} (downloaded sets; delete the file and run "
                         "'issim elements update' again)") from None


def elements_for(start_ms: int, end_ms: int | None = None, path: str | Path | None = None) -> ElementSet:
    """The set to use for ``[start_ms, end_ms]``: the one nearest its middle.

    Warns with :class:`StaleElementsWarning` if either end is more than
    :data:`STALE_AFTER_DAYS` from the set's epoch.
    """
    end_ms = start_ms if end_ms is None else end_ms
    chosen = nearest(available_sets(path), (start_ms + end_ms) // 2)
    gap_days = days_from_epoch(chosen, start_ms, end_ms)
    key = (chosen.source, chosen.epoch_ms)
    if is_stale(chosen, start_ms, end_ms) and key not in _warned:
        _warned.add(key)
        warnings.warn(
            StaleElementsWarning(
                f"element set of {format_iso(chosen.epoch_ms, 0)} is {gap_days:.0f} days from the time "
                "asked about; SGP4 positions drift by kilometres a day away from the epoch "
                "(run 'issim elements update' for a current set)"
            ),
            stacklevel=2,
        )
    return chosen


def days_from_epoch(elements: ElementSet, start_ms: int, end_ms: int | None = None) -> float:
    """How far (days) the farther end of ``[start_ms, end_ms]`` lies from the set's epoch."""
    end_ms = start_ms if end_ms is None else end_ms
    return max(abs(start_ms - elements.epoch_ms), abs(end_ms - elements.epoch_ms)) / MS_PER_DAY


def is_stale(elements: ElementSet, start_ms: int, end_ms: int | None = None) -> bool:
    """Whether figures for ``[start_ms, end_ms]`` from this set are unreliable (over :data:`STALE_AFTER_DAYS`)."""
    return days_from_epoch(elements, start_ms, end_ms) > STALE_AFTER_DAYS


def update(url: str | None = None, timeout_s: float = 30.0) -> tuple[Path, list[ElementSet]]:
    """Download the current ISS set (OMM JSON) into the user's data directory.

    Sets already there are kept (the file grows into a history). The reply is checked
    whole before anything is written (every set as :func:`~issim.orbit.checks.check_sense`
    demands): one bad set refuses the download, and the file, replaced atomically, is left
    as it was. Raises :class:`FetchError` when the network fails and :class:`InputError`
    when the reply is not a sensible element set.
    """
    url = url or os.environ.get("ISSIM_CELESTRAK_URL") or CELESTRAK_GP_URL
    fresh = parse_elements(_download(url, timeout_s), url)
    path = user_elements_path()
    kept = saved_sets()
    by_epoch = {(s.norad_id, s.epoch_ms): s for s in kept + fresh}
    write_omm_json(sorted(by_epoch.values(), key=lambda s: s.epoch_ms), path)
    return path, fresh


def _download(url: str, timeout_s: float) -> bytes:
    """The body of ``url``; :class:`FetchError` when it cannot be had."""
    import urllib.error
    import urllib.request  # here, not above: it costs a one-shot command a tenth of its start

    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:
            return reply.read()
    except urllib.error.HTTPError as exc:
        raise FetchError(url, f"the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(url, f"cannot download ({reason}); check the network, or pass --elements FILE") from None
