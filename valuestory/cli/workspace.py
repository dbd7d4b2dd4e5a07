"""`valuestory workspace`: the researcher's workspace, a local web page over the project's runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from valuestory.errors import InputError
from valuestory.project import find_project
from valuestory.stores.runs import RunStore

from .common import LlmOpt, ProjectOpt, console, handles_errors

app = typer.Typer()
DEFAULT_PORT = 8766  # the audit's is 8765: both can run at once


@app.command()
@handles_errors
def workspace(
    port: Annotated[int, typer.Option("--port", help="Port of the local page, on 127.0.0.1 only.")] = DEFAULT_PORT,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open the browser (for scripts).")] = False,
    llm: LlmOpt = None,
    project_dir: ProjectOpt = None,
) -> None:
    """Open the researcher's workspace in the browser: the value story map and scorecard, each
    touchpoint's mentions highlighted in their records (who speaks, persona, date,
    confidence), recoding in place (rename, merge, split, reassign, reject, set polarity,
    undo), the review queue, slices by segment, persona, kind and period, the comparison of
    two runs or periods, search with citations, and exports (CSV, the report).

    Decisions are the project's own, the same as `valuestory code` and `valuestory review`;
    the page's Apply button runs the pipeline again (with --llm's engine, default offline) to
    apply them. Runs at http://127.0.0.1:8766/ until Ctrl+C.

        valuestory workspace -p my-study
    """
    project = find_project(project_dir).require()
    if not RunStore(project.ledger).has_runs():
        raise InputError("this project has no run yet", hint="Run `valuestory run` first")
    project.ledger.close()  # the server opens its own, on the thread that serves
    from valuestory.workspace.web import serve
    console.print(f"The workspace runs at http://127.0.0.1:{port}/ ({escape(str(project.root))}); "
                  "press Ctrl+C to stop.")
    serve(Path(project.root), port=port, open_browser=not no_browser, llm=llm or "offline")
