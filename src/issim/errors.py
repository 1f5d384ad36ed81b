"""The error types that cross from the library to the command line.

They live here, at the bottom of the layers, so that the command line can catch them
without importing the packages that raise them (and their heavy dependencies).
"""


class _SourcedError:
    """``source`` names where the problem is; ``message`` says what is wrong, on one line."""

    def __init__(self, source: str, message: str):
        self.source = str(source)
        self.message = " ".join(str(message).split())  # always one line
        super().__init__(f"{self.source}: {self.message}")


class InputError(_SourcedError, ValueError):
    """Bad input: a malformed file, field or argument.

    ``source`` names where the problem is (a file path, ``FILE:line``, or an option such
    as ``--start``); ``message`` says what is wrong and, where it can, what to do. The
    command line prints ``issim: error: SOURCE: MESSAGE`` on one line and exits with 2.
    """


class FetchError(_SourcedError, RuntimeError):
    """A download failed for a reason outside the input (network, server); exit status 1."""


class StoreError(_SourcedError, RuntimeError):
    """Storing a run failed for a reason outside the input (a full disk, a vanished folder).

    The run is marked ``failed`` in the catalogue with the reason; the command line prints
    ``issim: error: SOURCE: MESSAGE`` and exits with 1.
    """
