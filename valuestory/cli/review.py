"""`valuestory review`: the latest run's least certain mentions first, a verdict on each.

Each verdict is a recoding decision like those of `valuestory code` (kept at once, applied to
every later run, listed and undone with `valuestory code list|undo`), and it teaches the
offline engine: the next run codes texts like the confirmed ones under their code, keeps the
rejected code off texts like the rejected ones, and gives texts like a corrected one its
polarity (`pipeline/mentions/learned.py`).
"""

from __future__ import annotations

import difflib
from typing import Annotated, Optional

import typer
from rich.markup import escape

from valuestory.errors import InputError
from valuestory.pipeline.artefacts import Mention
from valuestory.pipeline.mentions.calibration import built_in
from valuestory.pipeline.recode import Recode
from valuestory.pipeline.text import asked
from valuestory.project import find_project
from valuestory.stores.lock import writing
from valuestory.stores.recodes import RecodeStore
from valuestory.stores.runs import RunStore

from .common import ProjectOpt, console, handles_errors

app = typer.Typer()
VERDICTS = "y right · n not about it · r NAME about another touchpoint · p +/0/- its polarity · s skip · q quit"
POLARITY = {"+": "positive", "0": "neutral", "-": "negative",
            "positive": "positive", "neutral": "neutral", "negative": "negative"}


def queue(mentions: list[Mention], decided: set[tuple[str, str]], touchpoint: str | None = None) -> list[Mention]:
    """The mentions to review, least confident first (the likeliest to be wrong), without those
    a decision already speaks of."""
    left = [m for m in mentions if (m.record_id, m.quote) not in decided and (touchpoint is None or m.touchpoint == touchpoint)]
    return sorted(left, key=lambda m: (m.confidence, m.record_id, m.start))


def verdict(m: Mention, answer: str, known: set[str], fit: tuple[float, float] | None = None,
            scale: str = "") -> Recode | None:
    """The decision a verdict stands for (None: skip); an unknown verdict is an InputError.
    `fit` is the curve the run's confidences are on (the engine's own one is kept), `scale`
    the kind of coding they are of."""
    word, _, rest = answer.strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    about = {"touchpoints": [m.touchpoint], "record_id": m.record_id, "quote": m.quote, "texts": [m.quote],
             "confidence": built_in(m.confidence, fit), "scale": scale}
    if word in ("y", "yes"):
        return Recode(action="confirm", polarity=m.polarity, sentiment=m.sentiment, **about)
    if word in ("n", "no"):
        return Recode(action="reject", **about)
    if word == "r":
        if not rest:
            raise InputError("name the touchpoint it is about: r NAME")
        if rest not in known:
            close = difflib.get_close_matches(rest, sorted(known), n=1, cutoff=0.6)
            if close and close[0].casefold() == rest.casefold():
                rest = close[0]
        return Recode(action="reassign", into=rest, **about)
    if word == "p":
        if rest.lower() not in POLARITY:
            raise InputError("give the polarity: p +, p 0 or p -")
        return Recode(action="polarity", polarity=POLARITY[rest.lower()], sentiment=m.sentiment, **about)
    if word in ("s", ""):
        return None
    raise InputError(f"unknown verdict {answer!r}")


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
    if touchpoint is not None and touchpoint not in known:
        close = difflib.get_close_matches(touchpoint, sorted(known), n=3, cutoff=0.5)
        raise InputError(f"no touchpoint {touchpoint!r} in the latest run",
                         hint=f"Did you mean {', '.join(map(repr, close))}?" if close else
                         "`valuestory export touchpoints` lists them")
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
                with writing(project.store_dir, "code"):
                    made = decisions.add(decision)
                console.print(f"   {made.number}. {escape(made.describe())}")
                kept += 1
            break
        if answer.strip().lower() in ("q", "quit"):
            break
    if not show:
        console.print(f"\n{kept} verdict(s) kept. The next `valuestory run` applies them and learns from them; "
                      "`valuestory code list` shows them, `valuestory code undo` takes one back.")
