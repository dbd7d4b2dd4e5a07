"""What every command shares: the consoles, the flags (the same short ones everywhere), the
one error handler and the one progress display."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from valuestory.errors import ValuestoryError
from valuestory.pipeline.slices import Slice
from valuestory.project import ENV_VAR

console = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable)

ProjectOpt = Annotated[Optional[Path], typer.Option(
    "--project", "-p", help=f"Project folder (default: ${ENV_VAR}, else the nearest folder "
                            "upwards holding valuestory.toml, else the current one).",
    show_default=False)]
ChromaOpt = Annotated[Optional[str], typer.Option(
    "--chroma-url", help="Use the Chroma server at this URL instead of the embedded store "
                         "(e.g. http://127.0.0.1:8000).", show_default=False)]
LlmOpt = Annotated[Optional[str], typer.Option(
    "--llm", "-l", help="offline (default: no model, no key), openai:MODEL (OPENAI_API_KEY), or "
                        "compat:MODEL@URL for any OpenAI-compatible endpoint. Also [run] llm in valuestory.toml.",
    show_default=False)]


class Kind(str, Enum):
    interview = "interview"
    nps = "nps"
    support = "support"
    sales = "sales"
    feedback = "feedback"


class Format(str, Enum):
    csv = "csv"
    json = "json"


KindOpt = Annotated[Optional[Kind], typer.Option("--kind", "-k", help="Only this kind of source.",
                                                 show_default=False)]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="csv or json.")]
SegmentOpt = Annotated[Optional[str], typer.Option("--segment", help="Only records of this segment (as `valuestory "
                                                   "export records` shows it).", show_default=False)]
PersonaOpt = Annotated[Optional[str], typer.Option("--persona", help="Only records of this persona.", show_default=False)]
SinceOpt = Annotated[Optional[str], typer.Option("--since", help="Only records dated on or after this date "
                                                 "(2026-07-01) or from the start of a period (2026Q3, 2026-07, 2026); "
                                                 "undated records are left out.", show_default=False)]
UntilOpt = Annotated[Optional[str], typer.Option("--until", help="Only records dated up to this date (inclusive) "
                                                 "or the end of a period.", show_default=False)]


def slice_of(segment: str | None, persona: str | None, kind: Kind | None, since: str | None,
             until: str | None) -> Slice | None:
    """The slice the options name, or None for every record."""
    cut = Slice(segment=segment, persona=persona, kind=kind.value if kind else None, since=since, until=until)
    cut.bounds()  # a bad date fails here, before any work
    return cut or None
STDOUT = "-"  # as a file name: standard output, as Unix tools take it
OutputOpt = Annotated[Optional[Path], typer.Option("-o", "--output", help="File to write (default, or -: standard output).",
                                                   show_default=False)]


def handles_errors(command: F) -> F:
    """A `ValuestoryError` (bad input, no project, no run yet) becomes one red line on
    standard error and exit status 2, never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ValuestoryError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
            raise typer.Exit(2) from None
    return wrapper  # type: ignore[return-value]


@contextmanager
def progress() -> Iterator[Callable[[str, int, int], None]]:
    """Progress bars on standard error, one per stage: call `update(stage, done, total)`."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)
        yield update


def shown(path: str) -> str:
    """A stored source path as the user would type it from here: sources outside the project
    are stored with their absolute path, which is long to read."""
    try:
        return Path(path).relative_to(Path.cwd()).as_posix() if path.startswith("/") else path
    except ValueError:
        return path
