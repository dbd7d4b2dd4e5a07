"""`valuestory code`: recode what a run found, and keep it. Each decision is stored with the
project and applied to every later run's coding (offline or on a model); `list` shows them,
`undo` takes one back."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from valuestory.errors import InputError
from valuestory.pipeline.recode import Recode
from valuestory.project import find_project
from valuestory.recoding import decide
from valuestory.recoding import undo as undo_decision
from valuestory.stores.recodes import RecodeStore
from valuestory.stores.runs import RunStore

from .common import ProjectOpt, console, handles_errors

app = typer.Typer(help="Recode: rename, merge, split and tag touchpoints; reassign or reject a mention. "
                       "Decisions are kept and applied to every later run.", no_args_is_help=True)
NEXT = "Applied from the next `valuestory run` on (the mentions are not coded again, so it is quick)."
QuoteOpt = Annotated[Optional[str], typer.Option("--quote", "-q", help="Part of the mention's quote, when the record "
                                                 "mentions the touchpoint more than once.", show_default=False)]


def _decide(project_dir, recode: Recode) -> None:
    made = decide(find_project(project_dir).require(), recode)
    console.print(f"{made.number}. {escape(made.describe())}")
    console.print(NEXT)


@app.command()
@handles_errors
def rename(old: Annotated[str, typer.Argument(help="The touchpoint as the run names it.")],
           new: Annotated[str, typer.Argument(help="Its new name (an existing one merges the two).")],
           project_dir: ProjectOpt = None) -> None:
    """Rename a touchpoint."""
    _decide(project_dir, Recode(action="rename", touchpoints=[old], into=new))


@app.command()
@handles_errors
def merge(names: Annotated[list[str], typer.Argument(help="Two or more touchpoints.")],
          into: Annotated[str, typer.Option("--into", help="The merged touchpoint's name (may be one of them).")],
          project_dir: ProjectOpt = None) -> None:
    """Merge touchpoints into one: every mention of each goes to it.

        valuestory code merge "Mobile app" "iOS app" --into "Mobile app"
    """
    if len(names) < 2 and names[0] == into:
        raise InputError("merge needs two touchpoints, or one and a new name", hint="Or use `valuestory code rename`")
    _decide(project_dir, Recode(action="merge", touchpoints=names, into=into))


@app.command()
@handles_errors
def split(name: Annotated[str, typer.Argument(help="The touchpoint to split.")],
          into: Annotated[str, typer.Option("--into", help="The new touchpoint's name.")],
          words: Annotated[list[str], typer.Option("--word", "-w", help="A word or phrase: mentions whose quote says "
                                                   "it go to the new touchpoint. Repeatable.")],
          project_dir: ProjectOpt = None) -> None:
    """Split a touchpoint: the mentions whose quote says any of the words become a new one.

        valuestory code split "Payments and checkout" --into "Card reader" -w reader -w terminal
    """
    _decide(project_dir, Recode(action="split", touchpoints=[name], into=into, words=[w for w in words if w.strip()]))


@app.command()
@handles_errors
def tag(name: Annotated[str, typer.Argument(help="The touchpoint.")],
        label: Annotated[str, typer.Argument(help="The tag, e.g. q3-priority or owner:ops.")],
        project_dir: ProjectOpt = None) -> None:
    """Tag a touchpoint (shown in `export touchpoints` and `export codebook`)."""
    _decide(project_dir, Recode(action="tag", touchpoints=[name], tag=label))


@app.command()
@handles_errors
def reassign(record: Annotated[str, typer.Argument(help="The mention's record id (as `export mentions` shows it).")],
             from_: Annotated[str, typer.Option("--from", help="The touchpoint it is filed under now.")],
             to: Annotated[str, typer.Option("--to", help="The touchpoint it belongs to.")],
             quote: QuoteOpt = None, project_dir: ProjectOpt = None) -> None:
    """Move a wrongly coded mention to the touchpoint it is about."""
    _decide(project_dir, Recode(action="reassign", touchpoints=[from_], into=to, record_id=record, quote=quote or ""))


@app.command()
@handles_errors
def reject(record: Annotated[str, typer.Argument(help="The mention's record id.")],
           touchpoint: Annotated[str, typer.Option("--touchpoint", "-t", help="The touchpoint it is filed under.")],
           quote: QuoteOpt = None, project_dir: ProjectOpt = None) -> None:
    """Reject a mention: it is about no touchpoint (or not about this one), and leaves the scores."""
    _decide(project_dir, Recode(action="reject", touchpoints=[touchpoint], record_id=record, quote=quote or ""))


@app.command("list")
@handles_errors
def list_(project_dir: ProjectOpt = None) -> None:
    """Every decision in order, in force or undone, with how many mentions it changed in the latest run."""
    project = find_project(project_dir).require()
    store = RunStore(project.ledger)
    changed = store.latest().coding.recoded if store.has_runs() else {}
    table = Table(title="Recoding decisions (applied in this order)")
    for col in ("#", "decision", "status", "mentions changed in the latest run"):
        table.add_column(col, overflow="fold")
    decisions = RecodeStore(project.ledger).all()
    for r, undone in decisions:
        table.add_row(str(r.number), escape(r.describe()), f"undone {undone[:16]}" if undone else "in force",
                      "" if undone else str(changed.get(r.number, "not run yet")))
    console.print(table if decisions else "No recoding decisions yet: see `valuestory code --help`.")


@app.command()
@handles_errors
def undo(number: Annotated[Optional[int], typer.Argument(help="The decision's number (default: the last in force).",
                                                         show_default=False)] = None,
         project_dir: ProjectOpt = None) -> None:
    """Take a decision back (it stays in the list, marked undone)."""
    done = undo_decision(find_project(project_dir).require(), number)
    console.print(f"undone {done.number}. {escape(done.describe())}")
    console.print(NEXT)
