"""Commands on runs: run (with --dry-run) and report."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from valuestory.project import Project, find_project
from valuestory.stores.runs import RunStore

from .common import (
    STDOUT,
    ChromaOpt,
    KindOpt,
    LlmOpt,
    PersonaOpt,
    ProjectOpt,
    SegmentOpt,
    SinceOpt,
    UntilOpt,
    console,
    err,
    handles_errors,
    progress,
    slice_of,
)
from .runs import FLAGGED_EXIT

app = typer.Typer()
BATCH_POLL = float(os.environ.get("VALUESTORY_BATCH_POLL", "60"))  # seconds between checks with --wait
CodebookOpt = Annotated[Optional[Path], typer.Option(
    "--codebook", "-c", help="Your touchpoints, YAML or CSV: name, description, examples, channel, owner, effort.",
    exists=True, dir_okay=False, show_default=False)]


@app.command()
@handles_errors
def run(
    llm: LlmOpt = None,
    codebook: CodebookOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the planned calls, tokens and cost; call nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's summary as JSON (with its run_id), "
                                          "for schedulers and scripts.")] = False,
    ingest_first: Annotated[bool, typer.Option("--ingest", help="Ingest the [[sources]] declared in valuestory.toml "
                                               "first: what is new or changed.")] = False,
    changes: Annotated[bool, typer.Option("--changes", help="Compare with the previous run (`valuestory diff`) and "
                                          "exit 3 when a change is flagged.")] = False,
    notify: Annotated[Optional[str], typer.Option("--notify", help="A command run with the JSON summary on its "
                                                  "standard input, e.g. a mail or chat script.",
                                                  show_default=False)] = None,
    webhook: Annotated[Optional[str], typer.Option("--webhook", help="A URL the JSON summary is POSTed to.",
                                                   show_default=False)] = None,
    batch: Annotated[bool, typer.Option("--batch", help="Send a model stage's requests through the OpenAI Batch "
                                        "API (half price, answered within a day): the run stops at the first stage "
                                        "still waiting; run it again to pick the answers up.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="With --batch: keep checking until every batch is "
                                       "answered, instead of stopping.")] = False,
    segment: SegmentOpt = None,
    persona: PersonaOpt = None,
    kind: KindOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    project_dir: ProjectOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Synthesize, stage by stage: touchpoint mentions with verbatim quotes, the touchpoint
    catalogue, computed scores (emotional impact, functional performance, frequency, business
    impact) with the three touchpoints to fix first, personas, journeys and pivotal decisions,
    sensemaking stories, roles, improvement hypotheses and the value map. Re-running on
    unchanged data costs nothing: model answers are cached by model, prompt template and prompt.
    --segment, --persona, --kind, --since and --until run on a slice of the records only
    (to read a whole run through a slice, give them to `report` or `export` instead)."""
    from valuestory.pipeline.run import run as run_pipeline
    project = find_project(project_dir, chroma_url).require()
    spec = llm or project.config.run.llm
    cut = slice_of(segment, persona, kind, since, until)
    if dry_run:
        _dry_run(project, spec, codebook)
        return
    if ingest_first:
        from .store import _print_ingest_summary, ingest_declared
        reports = ingest_declared(project)
        if not as_json:
            _print_ingest_summary(reports)
    store = RunStore(project.ledger)
    previous = store.latest() if changes and store.has_runs() else None
    from valuestory.llm.batch import BatchPending
    while True:
        try:
            with progress() as update:
                result = run_pipeline(project, spec, codebook, update, batch=batch, cut=cut)
            break
        except BatchPending as pending:
            if not wait:
                console.print(escape(str(pending)))
                return  # not an error: the batch is on its way
            err.print(f"{escape(str(pending))}; checking again in {BATCH_POLL:g} s")
            time.sleep(BATCH_POLL)
    info = store.get(result.run_id).info
    report = {"run_id": result.run_id, "engine": result.engine, "model": result.model,
              "summary": info.summary.model_dump() if info.summary else None, "calls": result.calls,
              "groundedness": result.groundedness}
    flagged = []
    if previous is not None:
        from .runs import changes_of
        found = changes_of(project, [previous.run_id, result.run_id], None, None, None, None)
        flagged = [c.model_dump(mode="json") for c in found.flagged]
        report["changes"] = {"since": previous.run_id, "flagged": flagged, "new": found.new, "vanished": found.vanished}
    if notify or webhook:
        _tell(report, notify, webhook)
    if as_json:
        console.print_json(json.dumps(report))
    else:
        _print_run_summary(result)
        if previous is not None:
            console.print(f"Since {previous.run_id}: " + ("; ".join(
                f"{c['touchpoint']} {c['difference']['value']:+.2f}" for c in flagged) or "no change is flagged"))
        console.print("Next: `valuestory report` writes the value story map (HTML or Markdown).")
    if flagged:
        raise typer.Exit(FLAGGED_EXIT)


def _tell(report: dict, command: str | None, url: str | None) -> None:
    """The summary to a notification command (on its stdin) and a webhook (POSTed as JSON);
    either failing is said, and does not fail the run."""
    import subprocess
    import urllib.request
    body = json.dumps(report).encode()
    if command:
        done = subprocess.run(command, shell=True, input=body, capture_output=True, timeout=60)
        if done.returncode:
            err.print(f"[yellow]the notification command exited {done.returncode}[/yellow]", highlight=False)
    if url:
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST",
                                                          headers={"Content-Type": "application/json"}), timeout=30)
        except OSError as exc:
            err.print(f"[yellow]the webhook could not be reached ({escape(str(exc))})[/yellow]", highlight=False)


def _dry_run(project: Project, spec: str, codebook: Path | None) -> None:
    from valuestory.llm.costs import OUTPUT_SHARE
    from valuestory.llm.models import MissingKey, Unsent, make_model
    from valuestory.pipeline.run import plan
    try:
        model = make_model(spec)
    except MissingKey as missing:  # pricing a run needs no key
        model = Unsent(missing.name)
    if model is None:
        console.print("The offline engine makes no model calls and costs nothing.")
        return
    console.print(f"model: {model.name}")
    total_cost = 0.0
    for p in plan(project, spec, codebook, model):
        served = f" ({p['prompt_cached']:,} of them a repeated prefix prompt caching serves)" if p["prompt_cached"] else ""
        calls = f"{p['calls']} call{'' if p['calls'] == 1 else 's'}"
        console.print(f"{p['stage']} ({', '.join(p['prompts'])}): {calls} ({p['cached']} answered from "
                      f"the cache), {p['tokens_in']:,} input tokens to send{served}")
        total_cost += p["cost"] or 0.0
    console.print("stages after the first are planned from the offline engine's results: a model's differ a little; "
                  "token counts use the cl100k vocabulary, an estimate for models with another one")
    if total_cost:
        console.print(f"estimated cost: ${total_cost:.2f} (output estimated at {OUTPUT_SHARE:.0%} of input, "
                      "cached input at the cached price)")


def _interval(i, digits: int) -> str:
    if i.value is None:
        return ""
    from valuestory.render.numbers import signed
    return f"{signed(i.value, digits)} [{signed(i.low, digits)}, {signed(i.high, digits)}]" if i.low is not None \
        else signed(i.value, digits)


def _print_run_summary(result) -> None:
    card = result.scorecard
    table = Table(title=f"Touchpoints by priority ({result.engine}, {result.model})")
    # business impact as the data holds it: NPS, star ratings or CSAT, or both
    impacts = [("NPS impact", "nps_impact", 1)] * bool(card.nps_respondents)
    impacts += [(f"rating impact ({card.rating_scale})", "rating_impact", 2)] * bool(card.rating_respondents)
    for col in ("rank", "touchpoint", "mentions", "emotional impact", "did its job", *(i[0] for i in impacts), "priority"):
        table.add_column(col, justify="left" if col == "touchpoint" else "right")
    for s in [s for s in card.scores if s.scope == "overall" and s.rank is not None][:10]:
        ei, fp = s.emotional_impact, s.functional_performance
        table.add_row(str(s.rank), escape(s.touchpoint), str(s.mentions), _interval(ei, 2),
                      f"{fp.value:.0%}" if fp.value is not None else "",
                      *(_interval(getattr(s, field), digits) for _, field, digits in impacts), f"{s.priority:.3f}")
    console.print(table)
    console.print(f"Fix first: {', '.join(card.fix_first) or 'nothing ranks yet'}")
    console.print(f"Easy fixes: {', '.join(card.easy_fixes) or 'none found'}")
    calls = result.calls
    # offline, every quote is a span of its record by construction: a groundedness figure says nothing
    grounded = (f"groundedness {result.groundedness:.1%} ({result.dropped_quotes} ungrounded quotes dropped); "
                if result.engine == "llm" else "")
    console.print(f"{result.summary.mentions} mentions of {result.summary.touchpoints} touchpoints; {grounded}"
                  f"{calls['calls']} model calls ({calls['cache_hits']} cached"
                  + (f"; structured output by {', '.join(calls['modes'])}" if calls["modes"] else "") + "), "
                  f"{calls['tokens_in']:,} tokens in, {calls['tokens_out']:,} out; run {result.run_id}")


class ReportFormat(str, Enum):
    html = "html"
    md = "md"


@app.command()
@handles_errors
def report(
    fmt: Annotated[ReportFormat, typer.Option(
        "--format", "-f", help="html: one self-contained file that opens offline; md: the same content as Markdown."
    )] = ReportFormat.html,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="File to write (default: "
                                                   "out/report.html or out/report.md in the project; - for standard output).",
                                                   show_default=False)] = None,
    run_id: Annotated[Optional[str], typer.Option("--run", help="The run to report (its id or a unique start); "
                                                  "default: the latest.", show_default=False)] = None,
    segment: SegmentOpt = None,
    persona: PersonaOpt = None,
    kind: KindOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    project_dir: ProjectOpt = None,
) -> None:
    """Write the value story map of a run (the latest by default): summary and the three
    touchpoints to fix first, the journey per persona, the scorecard with charts, the
    touchpoint network, sensemaking hypotheses, the customer value map, opportunities, and an
    appendix where every quote is shown in its record. Each run's report is kept
    (out/report-RUN.html) and the latest run's is also out/report.html. With --segment,
    --persona, --kind, --since or --until it reports the run as a slice of its records sees
    it (scores and fix-first computed again for the slice), to out/report-RUN-SLICE.html."""
    from valuestory.render.report import render, write

    from .runs import reader_of
    project = find_project(project_dir).require()
    reader = reader_of(project, run_id)
    if cut := slice_of(segment, persona, kind, since, until):
        reader = reader.sliced(cut, list(project.ledger.records()))
    if output is not None and str(output) == STDOUT:
        sys.stdout.write(render(project, fmt.value, reader))
        return
    if output:
        path = write(project, output, fmt.value, reader)
    elif cut:
        name = re.sub(r"[^\w.-]+", "-", cut.label).strip("-")
        path = write(project, project.root / "out" / f"report-{reader.run_id}-{name}.{fmt.value}", fmt.value, reader)
    else:
        path = write(project, project.root / "out" / f"report-{reader.run_id}.{fmt.value}", fmt.value, reader)
        if reader.run_id == RunStore(project.ledger).latest().run_id:
            shutil.copyfile(path, project.root / "out" / f"report.{fmt.value}")
    console.print(f"Report written: {path}")
    _print_top_three(reader.info.summary.model_dump() if reader.info.summary else {})


def _print_top_three(summary: dict) -> None:
    fix = summary.get("fix_first") or []
    if not fix:
        return
    table = Table(title="Fix these three first", show_header=False, box=None)
    for i, name in enumerate(fix, start=1):
        table.add_row(f"{i}.", escape(name))
    console.print(table)
    if summary.get("easy_fixes"):
        console.print(f"Easy fixes: {escape(', '.join(summary['easy_fixes']))}")
