"""issim: a simulator of the International Space Station and of the people aboard it.

The everyday names live in the subpackages: :mod:`issim.orbit` for where the station
is and when it passes, :mod:`issim.station` for the station described as data,
:mod:`issim.sim` for running it and :mod:`issim.archive` for the runs stored.
:func:`open_run` reads a stored run back, :func:`open_campaign` a campaign (``docs/campaigns.md``);
:class:`Batch` steps many stations of one scenario at once (:mod:`issim.batch`).
"""

__version__ = "0.1.0"


def open_run(run="last", archive=None):
    """A stored run (:class:`issim.archive.RunRecord`) by id, folder name or ``"last"``.

    ``archive`` is the archive folder; default ``$ISSIM_HOME``, else ``./runs``.
    """
    from .archive import open_run as _open_run

    return _open_run(run, archive)


def open_campaign(name: str, archive=None):
    """A stored campaign (:class:`issim.campaign.store.CampaignTables`) by name: its tables as
    pandas DataFrames (``outcomes``, ``people``, ``beats``, ``decisions``, ``mind``), ``query(sql)``
    (DuckDB) and ``summary()``. ``archive`` as for :func:`open_run`."""
    from .campaign.store import open_campaign as _open_campaign

    return _open_campaign(name, archive)


def __getattr__(name: str):
    """``issim.Batch`` (:class:`issim.batch.Batch`), imported when first asked for: ``import
    issim`` stays light."""
    if name == "Batch":
        from .batch import Batch

        return Batch
    raise AttributeError(f"module 'issim' has no attribute {name!r}")
