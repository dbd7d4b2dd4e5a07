"""`valuestory review`: the latest run's least certain mentions first, a verdict on each.

Each verdict is a recoding decision like those of `valuestory code` (kept at once, applied to
every later run, listed and undone with `valuestory code list|undo`), and it teaches the
offline engine: the next run codes texts like the confirmed ones under their code, keeps the
rejected code off texts like the rejected ones, and gives texts like a corrected one its
polarity (`pipeline/mentions/learned.py`).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.markup import escape

from valuestory.errors import InputError
from valuestory.pipeline.text import asked
from valuestory.project import find_project
from valuestory.recoding import decide, known_touchpoint, queue, verdict
from valuestory.stores.recodes import RecodeStore
from valuestory.stores.runs import RunStore

from .common import ProjectOpt, console, handles_errors

app = typer.Typer()
VERDICTS = "y right · n not about it · r NAME about another touchpoint · p +/0/- its polarity · s skip · q quit"
@app.command()
@handles_errors
def review(limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Mentions to review in this sitting.")] = 20,
           touchpoint: Annotated[Optional[str], typer.Option("--touchpoint", "-t", help="Only this touchpoint's.",
                                                             show_default=False)] = None,
           show: Annotated[bool, typer.Option("--list", help="List the queue without asking.")] = False,
           project_dir: ProjectOpt = None) -> None:
    """Review the latest run's least certain mentions first, one verdict each.

    For each mention it shows the record, the touchpoint, the polarity, the confidence and the
    quote, and asks: `y` (right), `n` (not about this touchpoint), `r NAME` (about another
    touchpoint), `p +`, `p 0` or `p -` (right touchpoint, that polarity), `s` (skip) or `q`
    (stop). Each verdict is kept at once as a recoding decision (`valuestory code list` shows
    them, `valuestory code undo` takes one back), and the next `valuestory run` learns from
    them.
    """
    project = find_project(project_dir).require()
    runs = RunStore(project.ledger)
    if not runs.has_runs():
        raise InputError("there is no run to review yet", hint="Run `valuestory run` first")
    coding = runs.latest().coding
    decisions = RecodeStore(project.ledger)
    decided = {(r.record_id, t) for r in decisions.active() for t in r.texts}
    known = {t.name for t in coding.touchpoints}
    fit = (coding.calibration[0], coding.calibration[1]) if coding.calibration else None
    if touchpoint is not None:
        known_touchpoint(touchpoint, known)
    todo = queue(list(coding.mentions), decided, touchpoint)[:limit]
    if not todo:
        console.print("Nothing to review: every mention of the latest run has a verdict.")
        return
    wanted = {m.record_id for m in todo}
    records = {r.record_id: r for r in project.ledger.records() if r.record_id in wanted}
    console.print(f"{len(todo)} mention(s), least certain first. {VERDICTS}")
    kept = 0
    for k, m in enumerate(todo, start=1):
        console.print(f"\n[bold]{k}.[/bold] {escape(m.record_id)} · [bold]{escape(m.touchpoint)}[/bold] · "
                      f"{m.polarity} · confidence {m.confidence:.2f}\n   “{escape(m.quote)}”")
        if (r := records.get(m.record_id)) is not None and (question := asked(r, m.start)):
            console.print(f"   [dim]answering “{escape(question)}”[/dim]")
        if show:
            continue
        while True:
            answer = typer.prompt("   verdict", default="s", show_default=False)
            if answer.strip().lower() in ("q", "quit"):
                break
            try:
                decision = verdict(m, answer, known, fit, coding.scale)
            except InputError as exc:
                console.print(f"   {escape(exc.message)} ({VERDICTS})")
                continue
            if decision is not None:
                made = decide(project, decision)
                console.print(f"   {made.number}. {escape(made.describe())}")
                kept += 1
            break
        if answer.strip().lower() in ("q", "quit"):
            break
    if not show:
        console.print(f"\n{kept} verdict(s) kept. The next `valuestory run` applies them and learns from them; "
                      "`valuestory code list` shows them, `valuestory code undo` takes one back.")
