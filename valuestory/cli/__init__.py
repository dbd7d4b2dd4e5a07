"""The `valuestory` command: the verbs users type most at the top (`ingest`, `run`, `report`,
`search`, `eval`, `export KIND`), one module per noun, the same flags everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

from valuestory import __version__

from . import audit, code, export, review, run, runs, schedule, store, workspace
from . import eval as eval_commands
from .common import console

app = typer.Typer(
    help="Turn customer research (interviews, NPS surveys, support tickets, sales notes) into a "
         "value story map whose every claim points to the customer's own words.\n\n"
         "Start with `valuestory ingest FOLDER`, then `valuestory run` and `valuestory report`.",
    no_args_is_help=True, rich_markup_mode="markdown", pretty_exceptions_enable=False,
)
TOP = ("ingest", "run", "report", "workspace", "search", "audit", "eval")  # what users type most, listed first
_commands = [c for m in (store, run, workspace, audit, eval_commands, review) for c in m.app.registered_commands]
_commands += runs.diff_app.registered_commands
_commands.sort(key=lambda c: TOP.index(c.name or c.callback.__name__) if (c.name or c.callback.__name__) in TOP
               else len(TOP))
app.registered_commands.extend(_commands)
app.add_typer(export.app, name="export")
app.add_typer(runs.app, name="runs")
app.add_typer(code.app, name="code")
app.add_typer(schedule.app, name="schedule")


def _version(value: bool) -> None:
    if value:
        console.print(f"valuestory {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False) -> None:
    pass


if __name__ == "__main__":
    app()
