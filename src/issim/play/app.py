"""The terminal game of ``issim play``: a Textual app over a :class:`~issim.play.game.Game`.

It shows the game's :class:`~issim.play.game.View` and nothing else: the player's place,
body and who is in sight; the station as far as they can tell; the laptops in reach; the
messages delivered to them; what they noticed; and the commands they may give now, with
the refused ones greyed and why. Keys: ``enter`` gives the highlighted command, ``n`` (or
space) runs to the next thing the player notices, ``w`` waits a minute, ``r`` switches
scaled real time (off, 60×, 600×), ``q`` ends the game (then closes the end screen).
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from .game import Game

SPEEDS = (0, 60, 600)  # real time off, then simulated seconds per second
TICK_S = 0.25


class PlayApp(App):
    """The game on the terminal (see the module)."""

    TITLE = "issim play"
    CSS = """
    Screen { layout: vertical; }
    #top { height: 1; background: $primary; color: $text; padding: 0 1; }
    #main { height: 1fr; }
    #left { width: 34; }
    #middle { width: 1fr; }
    #right { width: 46; }
    .box { border: round $secondary; padding: 0 1; height: auto; }
    #station { height: 1fr; }
    #feed { height: 1fr; border: round $secondary; padding: 0 1; }
    #commands { height: 1fr; border: round $accent; }
    #end { height: 1fr; border: double $warning; padding: 0 1; }
    """
    BINDINGS = [
        Binding("n", "next", "next thing"),
        Binding("space", "next", "next thing", show=False),
        Binding("w", "wait", "wait 1 min"),
        Binding("r", "speed", "real time"),
        Binding("q", "quit_game", "quit"),
    ]

    def __init__(self, game: Game, scenario: str = ""):
        super().__init__()
        self.game = game
        self.scenario = scenario
        self.speed = 0
        self._timer = None
        self._ended_shown = False

    def compose(self) -> ComposeResult:
        yield Static(id="top")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Static(id="you", classes="box")
                yield VerticalScroll(Static(id="station-text"), id="station", classes="box")
            with Vertical(id="middle"):
                yield Static(id="laptops", classes="box")
                yield Static(id="messages", classes="box")
                yield VerticalScroll(Static(id="feed-text"), id="feed")
                yield VerticalScroll(Static(id="end-text"), id="end")
            with Vertical(id="right"):
                yield OptionList(id="commands")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#end").display = False
        self.query_one("#commands").border_title = "Commands (enter)"
        self.query_one("#feed").border_title = "What you notice"
        self.refresh_view()
        self.query_one("#commands").focus()

    # ------------------------------------------------------------------ drawing

    def refresh_view(self) -> None:
        v = self.game.view()
        mode = "turns" if not self.speed else f"real time {self.speed}×"
        self.query_one("#top", Static).update(Text(
            f"issim play {self.scenario} · {v.person} · {v.clock} ({v.utc}) · {mode}", no_wrap=True))
        you = [f"[b]{escape(v.person)}[/b]", f"in [b]{escape(v.where)}[/b] ({v.segment})", *map(escape, v.body)]
        you.append("sees: " + (escape(", ".join(v.in_sight)) if v.in_sight else "no one"))
        you += [escape(h) for h in v.hatches]
        self.query_one("#you", Static).update("\n".join(you))
        self.query_one("#you").border_title = "You"
        lines = []
        for seg, rows in v.station:
            lines.append(f"[b]{seg}[/b]")
            for name, mark in rows:
                lines.append(f"  {escape(name)}" + (f" [reverse]{escape(mark)}[/reverse]" if mark else ""))
        self.query_one("#station-text", Static).update("\n".join(lines))
        self.query_one("#station").border_title = "The station, as far as you can tell"
        self.query_one("#laptops", Static).update("\n".join(escape(x) for x in v.laptops))
        self.query_one("#laptops").border_title = "Laptops in reach"
        self.query_one("#messages", Static).update("\n".join(escape(x) for x in v.messages) or "none yet")
        self.query_one("#messages").border_title = "Messages to you"
        feed = self.query_one("#feed", VerticalScroll)
        self.query_one("#feed-text", Static).update("\n".join(escape(x) for x in v.feed))
        feed.scroll_end(animate=False)
        commands = self.query_one("#commands", OptionList)
        if not v.over:
            at = commands.highlighted
            commands.clear_options()
            commands.add_options([Option(c.label, id=str(c.index)) if c.refused is None
                                  else Option(Text(f"{c.label} — {c.refused}", style="dim"), id=str(c.index),
                                              disabled=True) for c in v.choices])
            if commands.option_count:
                commands.highlighted = min(at or 0, commands.option_count - 1)
                if commands.get_option_at_index(commands.highlighted).disabled:
                    commands.highlighted = 0
        if v.over and not self._ended_shown:
            self._show_end(v)

    def _show_end(self, v) -> None:
        self._ended_shown = True
        self._stop_clock()
        self.query_one("#commands", OptionList).clear_options()
        self.query_one("#commands").border_title = "Game over"
        end = self.query_one("#end")
        end.display = True
        end.border_title = "The end"
        run = f"It is stored as run {self.game.run_id} when you close (q)." if self.game.run_id is not None else ""
        text = [f"[b]GAME OVER: {escape(v.ended)}[/b]", "", f"[b]Ending:[/b] {escape(v.ending)}", "", "[b]The story:[/b]",
                *(escape(s) for s in v.story or ("nothing of note happened",)), "", escape(run)]
        self.query_one("#end-text", Static).update("\n".join(text))
        self.query_one("#feed").display = False

    # ------------------------------------------------------------------ keys

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if self.game.over or event.option.disabled:
            return
        self.game.issue(int(event.option.id))
        self.refresh_view()

    def action_next(self) -> None:
        if not self.game.over:
            self.game.advance()
            self.refresh_view()

    def action_wait(self) -> None:
        if not self.game.over:
            self.game.wait()
            self.refresh_view()

    def action_speed(self) -> None:
        if self.game.over:
            return
        self.speed = SPEEDS[(SPEEDS.index(self.speed) + 1) % len(SPEEDS)]
        self._stop_clock()
        if self.speed:
            self._timer = self.set_interval(TICK_S, self._tick)
        self.refresh_view()

    def _stop_clock(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _tick(self) -> None:
        if self.game.over:
            self._stop_clock()
        else:
            self.game.run_for(self.speed * TICK_S * 1000)
        self.refresh_view()

    def action_quit_game(self) -> None:
        if self.game.over:
            self.exit()
            return
        self.game.quit()
        self.refresh_view()
