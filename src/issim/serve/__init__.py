"""``issim serve``: mission control in the browser, over the open core.

A FastAPI server (:mod:`.app`) that runs a live simulation at a chosen pace or replays a
stored run (:mod:`.sources`, :mod:`.session`), speaks Open MCT's telemetry contract (a
dictionary with an object tree, limits and enumerations: :mod:`.dictionary`; history with
server-side decimation: :mod:`.decimate`; realtime over a websocket; a clock in simulation
time; staleness that follows each segment's loss of signal), and takes commands from a
crew member or a ground signed in with a token (:mod:`.tokens`, :mod:`.commanding`).
At ``/play`` one of the crew is played in a game of its own (:mod:`.play`, over
:mod:`issim.play`), with the same role-limited view as ``issim play``.

It sits on top of everything else (``docs/architecture.md``): it drives the run through
:class:`issim.runner.Runner`, reads stored runs through :mod:`issim.archive`, and holds no
simulation logic of its own. ``docs/serve.md`` is the reader's guide.
"""

from __future__ import annotations


def open_source(what: str, archive=None, seed=None):
    """The source of ``issim serve WHAT``: a bundled scenario's name (a live run) or a stored
    run's id, folder name or ``last`` (a replay). Nothing else: no file path is taken."""
    from ..errors import InputError
    from ..scenario import bundled_names

    if what in bundled_names():
        from ..runner import Runner
        from .sources import LiveSource

        return LiveSource(Runner(what, seed=seed))
    from ..archive import Archive
    from ..archive.catalogue import check_run_number

    if what not in ("last", "latest") and not what.split("-", 1)[0].isdigit():
        raise InputError("SCENARIO", f"{what!r} is neither a bundled scenario ({', '.join(bundled_names())}) nor a "
                                     "stored run's id (issim runs lists them)")
    if seed is not None:
        raise InputError("--seed", "a stored run has its own seed: give --seed only with a scenario")
    check_run_number(what, "RUN")
    from .sources import ReplaySource

    return ReplaySource(Archive.open(archive).get(what, "RUN"))


def open_tokens(source, path=None, env=None):
    """The command tokens of the roles of ``source``'s run (:func:`issim.serve.tokens.load`):
    its crew and the grounds, live or replayed; those missing are made and saved."""
    from . import tokens
    from .commanding import roles

    return tokens.load(list(roles(source.world)), path, env)


__all__ = ["open_source", "open_tokens"]
