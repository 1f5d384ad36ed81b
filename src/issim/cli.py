"""The ``issim`` command line: a thin layer over the Python API.

Every command validates its input at the edge and leaves the work to the library.
Bad input of any kind ends with one line on stderr, ``issim: error: SOURCE: PROBLEM``,
and exit status 2.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Optional

import click
import typer
from rich.console import Console

from .errors import InputError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="issim: the International Space Station and the people aboard it, simulated.",
)

out = Console()
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _print_json(data) -> None:
    """Print JSON on stdout, plain (no colour), so that tools can read it."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- station


@app.command()
def station(
    json_output: bool = typer.Option(False, "--json", help="Print the station as JSON data."),
) -> None:
    """Show the station: its modules by segment and the hatch graph."""
    from .station import load_station
    from .station.report import render_station

    iss = load_station()
    if json_output:
        _print_json(iss.to_dict())
    else:
        render_station(iss, out)


# --------------------------------------------------------------------------- entry point


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    err.print(f"issim: warning: {message}", markup=False)


def _usage_source(exc: click.UsageError) -> str:
    param = getattr(exc, "param", None)
    if param is not None:
        opts = getattr(param, "opts", None) or [param.name or "argument"]
        return max(opts, key=len)
    hint = getattr(exc, "param_hint", None)
    if hint:
        return str(hint).strip("'\"")
    if getattr(exc, "option_name", None):
        return exc.option_name
    return exc.ctx.command_path if exc.ctx else "issim"


def main(argv: Optional[list[str]] = None) -> int:
    """Run the command line; return (and exit with) its status."""
    warnings.showwarning = _one_line_warning
    try:
        status = app(args=argv, prog_name="issim", standalone_mode=False)
    except InputError as exc:
        err.print(f"issim: error: {exc.source}: {exc.message}", markup=False)
        status = 2
    except click.UsageError as exc:
        message = " ".join(exc.format_message().split())
        err.print(f"issim: error: {_usage_source(exc)}: {message}", markup=False)
        status = 2
    except click.Abort:
        err.print("issim: interrupted", markup=False)
        status = 130
    except click.exceptions.Exit as exc:
        status = exc.exit_code
    status = status if isinstance(status, int) else 0
    if argv is None:
        sys.exit(status)
    return status


if __name__ == "__main__":  # pragma: no cover
    main()
