"""``python -m issim``: the command line, as ``issim``."""

from .cli import main

main()
