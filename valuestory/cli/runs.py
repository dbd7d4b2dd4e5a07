"""Commands on the runs a project holds: `runs list`, `runs show RUN`, and `diff` (what changed
between two runs, or between two periods of one run by record date)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from valuestory.compare import changes_of
from valuestory.pipeline.changes import Changes
from valuestory.project import find_project
from valuestory.render.numbers import signed
from valuestory.stores.runs import RunReader, RunStore

from .common import ProjectOpt, console, handles_errors

app = typer.Typer(help="The runs this project holds: list them, show one.", no_args_is_help=True)
diff_app = typer.Typer()
FLAGGED_EXIT = 3  # what a scheduler acts on: a change whose interval excludes 0
RunOpt = Annotated[Optional[str], typer.Option("--run", help="A run id (or its unique start); default: the latest.",
                                               show_default=False)]


def reader_of(project, run_id: str | None) -> RunReader:
    store = RunStore(project.ledger)
    return store.get(run_id) if run_id else store.latest()


@app.command("list")
@handles_errors
def list_runs(project_dir: ProjectOpt = None) -> None:
    """Every run, newest first: when, engine and model, status, mentions, model calls and tokens."""
    project = find_project(project_dir).require()
    table = Table(box=None)
    for col in ("run", "started", "engine", "model", "status", "slice", "mentions", "calls", "tokens in/out"):
        table.add_column(col, no_wrap=col in ("run", "started"))
    for info in RunStore(project.ledger).all():
        totals = project.ledger.call_totals(info.run_id)
        table.add_row(info.run_id, (info.started_at or "")[:19], info.engine, escape(info.model or "–"),
                      escape(info.status[:40]), escape(info.summary.slice or "all") if info.summary else "",
                      str(info.summary.mentions) if info.summary else "–",
                      str(totals["calls"] - totals["cache_hits"]), f"{totals['tokens_in']}/{totals['tokens_out']}")
    console.print(table)


@app.command("show")
@handles_errors
def show_run(run_id: Annotated[str, typer.Argument(help="A run id, or its unique start.")],
             project_dir: ProjectOpt = None) -> None:
    """One run: engine, model, prompt versions, inputs, records, calls, tokens, cost, time, and
    what each stage was made by."""
    project = find_project(project_dir).require()
    reader = RunStore(project.ledger).get(run_id)
    info, totals = reader.info, project.ledger.call_totals(reader.run_id)
    lines = [f"run {info.run_id}: {info.status}", f"started {info.started_at}, finished {info.finished_at}",
             f"engine {info.engine}, model {info.model or '–'}",
             "prompts: " + (", ".join(f"{k} {'/'.join(v)}" for k, v in info.prompts.items()) or "none (no model)"),
             "inputs: " + ", ".join(f"{k} {v}" for k, v in info.inputs.items()),
             f"records {project.ledger.record_count()} now in the project; mentions "
             f"{info.summary.mentions if info.summary else '–'}",
             f"model calls {totals['calls'] - totals['cache_hits']} ({totals['cache_hits']} from the cache), tokens "
             f"{totals['tokens_in']} in ({totals['tokens_cached']} of them served by the provider's prompt cache), "
             f"{totals['tokens_out']} out"]
    lines += [f"  {p.stage}: {p.engine} {p.version}{f' ({p.model})' if p.model else ''}, {p.seconds:.1f} s"
              for p in reader.provenance()]
    lines += _learned(reader.coding.learned)
    if c := reader.coding.calibration:
        lines.append(f"confidences on the curve of {int(c[2])} of your verdicts (a={c[0]}, b={c[1]})")
    console.print("\n".join(escape(line) for line in lines))


def _learned(learned: dict[str, dict[str, int]]) -> list[str]:
    """What the offline engine learned from the researcher's corrections in this run."""
    if not learned:
        return ["learned from corrections: none yet (`valuestory review`, `valuestory code`, `eval --labels --learn`)"]
    texts = sum(c["right"] + c["wrong"] for c in learned.values())
    return [f"learned from corrections: {texts} texts over {len(learned)} codes (right / wrong / with a polarity)"] + [
        f"  {code}: {c['right']} / {c['wrong']} / {c['polarity']}" for code, c in sorted(learned.items())]


@diff_app.command()
@handles_errors
def diff(
    runs: Annotated[Optional[list[str]], typer.Argument(help="Two run ids: before, then after.",
                                                        show_default=False)] = None,
    period: Annotated[Optional[str], typer.Option("--period", help="The first period of one run, by record date: "
                                                  "2026Q2, 2026-07 or 2026.", show_default=False)] = None,
    vs: Annotated[Optional[str], typer.Option("--vs", help="The period to compare it with.",
                                              show_default=False)] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Compare the records before this date with those "
                                                 "since.", show_default=False)] = None,
    run_id: RunOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the changes as JSON.")] = False,
    project_dir: ProjectOpt = None,
) -> None:
    """What changed: per touchpoint the change of its emotional impact with a 95% bootstrap
    interval of the difference, flagged only when the interval excludes 0; rank moves; new and
    vanished touchpoints; churn and advocacy rates per persona; emerging themes that grew.
    Exits 3 when a change is flagged (for schedulers), 0 when none is.

        valuestory diff run-1a2b run-3c4d
        valuestory diff --period 2026Q2 --vs 2026Q3
    """
    project = find_project(project_dir).require()
    changes = changes_of(project, runs or [], period, vs, since, run_id)
    if as_json:
        console.print_json(json.dumps(changes.model_dump(mode="json")))
    else:
        _print(changes)
    if changes.flagged:
        raise typer.Exit(FLAGGED_EXIT)


def _print(c: Changes) -> None:
    console.print(f"{escape(c.before)} ({c.records_before} records) → {escape(c.after)} ({c.records_after} records)")
    table = Table("touchpoint", "before", "after", "change [95%]", "rank", "flag")
    for t in c.touchpoints:
        d = t.difference
        table.add_row(escape(t.touchpoint), f"{signed(t.before.value)} ({t.before.n})", f"{signed(t.after.value)} ({t.after.n})",
                      f"{signed(d.value)} [{signed(d.low)}, {signed(d.high)}]",
                      f"{t.rank_before or '–'} → {t.rank_after or '–'}", "changed" if t.flagged else "")
    console.print(table)
    for t in c.flagged:
        for q in t.quotes:
            console.print(f"  {escape(t.touchpoint)}: “{escape(q.text)}” ({escape(q.record_id)})", highlight=False)
    if c.new or c.vanished:
        console.print(f"new: {escape(', '.join(c.new) or 'none')}; vanished: {escape(', '.join(c.vanished) or 'none')}")
    for r in c.rates:
        if r.before != r.after:
            console.print(f"{escape(r.persona or 'everyone')}: {r.decision} "
                          f"{'–' if r.before is None else f'{r.before:.1%}'} → {'–' if r.after is None else f'{r.after:.1%}'}")
    for t in c.themes:
        console.print(f"emerging theme grew: {escape(t.theme)} {t.before} → {t.after} records")
    if not c.flagged:
        console.print("No change is flagged: every interval of a difference includes 0.")
