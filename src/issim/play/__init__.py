"""Playing one crew member (``issim play``, ``docs/play.md``).

- :class:`~issim.play.game.Game`: one person's game over the run façade: what they see
  (:meth:`~issim.play.game.Game.view`, built from their observation and their action mask
  alone), what they may do and why the rest is refused, their commands through the
  pipeline, time in turns or in scaled real time, the end;
- :func:`~issim.play.game.session`: a game recorded in the run archive, the player marked;
- :mod:`issim.play.app`: the terminal game (Textual, the ``play`` extra), imported only by
  ``issim play``.
"""

from .game import Game, View, session

__all__ = ["Game", "View", "session"]
