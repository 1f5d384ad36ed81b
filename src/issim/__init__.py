"""issim: a simulator of the International Space Station and of the people aboard it.

The everyday names live in the subpackages: :mod:`issim.orbit` for where the station
is and when it passes, :mod:`issim.station` for the station described as data,
:mod:`issim.sim` for running it and :mod:`issim.archive` for the runs stored.
:func:`open_run` reads a stored run back.
"""

__version__ = "0.1.0"


def open_run(run="last", archive=None):
    """A stored run (:class:`issim.archive.RunRecord`) by id, folder name or ``"last"``.

    ``archive`` is the archive folder; default ``$ISSIM_HOME``, else ``./runs``.
    """
    from .archive import open_run as _open_run

    return _open_run(run, archive)
