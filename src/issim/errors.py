"""The one error type that crosses from input handling to the command line."""


class InputError(ValueError):
    """Bad input: a malformed file, field or argument.

    ``source`` names where the problem is (a file path, ``FILE:line``, or an option such
    as ``--start``); ``message`` says what is wrong and, where it can, what to do. The
    command line prints ``issim: error: SOURCE: MESSAGE`` on one line and exits with 2.
    """

    def __init__(self, source: str, message: str):
        self.source = str(source)
        self.message = " ".join(str(message).split())  # always one line
        super().__init__(f"{self.source}: {self.message}")
