"""`valuestory audit`: the guided touchpoint audit for a small business, as a local web page
or, for scripts, in one non-interactive command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from valuestory.audit.businesses import TYPES
from valuestory.audit.session import Audit
from valuestory.errors import InputError

from .common import LlmOpt, console, err, handles_errors

app = typer.Typer()
DEFAULT_PORT = 8765


@app.command()
@handles_errors
def audit(
    project_dir: Annotated[Path, typer.Option("--project", "-p", help="Folder the audit is saved in (created if new); "
                                              "open it again next quarter to add new data.")] = Path("audit"),
    port: Annotated[int, typer.Option("--port", help="Port of the local page, on 127.0.0.1 only.")] = DEFAULT_PORT,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open the browser (for scripts).")] = False,
    business_type: Annotated[Optional[str], typer.Option(
        "--business-type", "-b", help="With --non-interactive: " + ", ".join(TYPES) + ".",
        show_default=False)] = None,
    reviews: Annotated[Optional[list[Path]], typer.Option(
        "--reviews", "-r", help="With --non-interactive: your customers' words (a reviews export, an NPS or survey "
                                "CSV, support emails...); repeat for several files.", exists=True,
        show_default=False)] = None,
    non_interactive: Annotated[bool, typer.Option(
        "--non-interactive", help="Run the whole audit without the page: the library's touchpoints for the "
                                  "business type, the files given, and the findings.")] = False,
    json_out: Annotated[Optional[Path], typer.Option(
        "--json", help="With --non-interactive: write the findings as JSON here (fix_first: three touchpoints, "
                       "each with five hypotheses).", show_default=False)] = None,
    llm: LlmOpt = None,
) -> None:
    """Walk a small business from "what do my customers go through?" to "fix these three
    first": your business and its touchpoints, your customers' words, your map, scores,
    what to fix, five ideas each and a printable audit. Saved after every step.

    By default it opens a local page (http://127.0.0.1:8765/); `--non-interactive` does it
    in one command:

        valuestory audit --business-type cafe_bakery --reviews reviews.csv --non-interactive --json audit.json
    """
    spec = llm or "offline"
    if not non_interactive:
        from valuestory.audit.web import serve
        console.print(f"The audit runs at http://127.0.0.1:{port}/ (saved in {escape(str(project_dir))}); "
                      "press Ctrl+C to stop.")
        serve(project_dir, port=port, open_browser=not no_browser, llm=spec)
        return
    if not business_type:
        raise InputError("--non-interactive needs --business-type", hint="Choose one of: " + ", ".join(TYPES))
    session = Audit(project_dir)
    session.choose(business_type)
    failed = [r for r in session.add_data(list(reviews or [])) if r.status == "failed"]
    for r in failed:
        err.print(f"[red]not taken:[/red] {escape(r.path)}: {escape(r.message)}", highlight=False)
    if not session.state.uploads:
        raise InputError("no customer data was taken", hint="Give a reviews export or survey CSV with --reviews")
    found = session.analyse(spec)
    for step in ("map", "scores", "fix", "ideas"):
        session.mark(step)
    summary = {"business_type": business_type, "records": found.records, "engine": found.engine,
               "fix_first": [{"touchpoint": tp, "hypotheses": [i.model_dump(mode="json") for i in found.ideas[tp]]}
                             for tp in found.fix_first],
               "easy_fixes": found.easy_fixes, "missing": [m.name for m in found.missing],
               "unmentioned": found.unmentioned,
               "touchpoints": [s.model_dump(mode="json") for s in found.touchpoints]}
    if json_out:
        json_out.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    console.print(f"From {found.records} records. Fix these three first: "
                  + "; ".join(escape(t) for t in found.fix_first))
    if json_out:
        console.print(f"Findings written to {escape(str(json_out))}")
