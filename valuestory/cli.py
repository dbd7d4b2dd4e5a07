"""The `valuestory` command: noun-first commands with the same flags everywhere."""

from __future__ import annotations

import csv
import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Table

from . import __version__
from .errors import ValuestoryError
from .project import ENV_VAR, Project, find_project

app = typer.Typer(
    help="Turn customer research (interviews, NPS surveys, support tickets, sales notes) into a "
         "value story map whose every claim points to the customer's own words.\n\n"
         "Start with `valuestory ingest FOLDER`, then `valuestory sources` and `valuestory search`.",
    no_args_is_help=True, rich_markup_mode="markdown", pretty_exceptions_enable=False,
)
export_app = typer.Typer(help="Export what the project holds, as CSV or JSON.", no_args_is_help=True)
app.add_typer(export_app, name="export")
console = Console()
err = Console(stderr=True)

ProjectOpt = Annotated[Optional[Path], typer.Option(
    "--project", "-p", help=f"Project folder (default: ${ENV_VAR}, else the nearest folder "
                            "upwards holding valuestory.toml, else the current one).",
    show_default=False)]
ChromaOpt = Annotated[Optional[str], typer.Option(
    "--chroma-url", help="Use the Chroma server at this URL instead of the embedded store "
                         "(e.g. http://127.0.0.1:8000).", show_default=False)]


class Kind(str, Enum):
    interview = "interview"
    nps = "nps"
    support = "support"
    sales = "sales"
    feedback = "feedback"


class Format(str, Enum):
    csv = "csv"
    json = "json"


def _shown(path: str) -> str:
    """A stored source path as the user would type it from here: sources outside the project
    are stored with their absolute path, which is long to read."""
    try:
        return Path(path).relative_to(Path.cwd()).as_posix() if path.startswith("/") else path
    except ValueError:
        return path


def _fail(exc: ValuestoryError) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    return typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        console.print(f"valuestory {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False) -> None:
    pass


@app.command()
def init(
    folder: Annotated[Optional[Path], typer.Argument(
        help=f"Where to create the project (default: --project, ${ENV_VAR}, else here).",
        show_default=False)] = None,
    project_dir: ProjectOpt = None,
) -> None:
    """Create a project: a commented valuestory.toml; the store goes in .valuestory/ beside it."""
    target = folder or project_dir or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else Path.cwd())
    project = Project(target)
    try:
        created = project.create()
    except ValuestoryError as exc:
        raise _fail(exc)
    if created:
        console.print(f"Created {project.config_path}. Next: valuestory ingest FILES_OR_FOLDERS")
    else:
        console.print(f"{project.config_path} exists already; nothing changed.")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders of research data.", show_default=False)],
    kind: Annotated[Optional[Kind], typer.Option(
        "--kind", "-k", help="Read every file as this kind instead of detecting it from the "
                             "folder name, extension and headers.", show_default=False)] = None,
    map_: Annotated[Optional[list[str]], typer.Option(
        "--map", "-m", metavar="FIELD=COLUMN",
        help="Name the column that holds a field, when its header is not recognised, e.g. "
             "--map score=Q3 --map text=\"Tell us why\". Repeatable.", show_default=False)] = None,
    project_dir: ProjectOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Ingest research files into the project's store: detect each file's kind, normalize it
    into records, redact personal data, chunk, embed and index.

    Kinds: interview (.txt/.md `Name: text`, .vtt, .srt, .json turns, .docx), nps (CSV/XLSX
    with a 0-10 score), support (tickets CSV/JSON), sales (CRM CSV), feedback (any CSV of
    free text). Re-ingesting unchanged files adds nothing; a changed file replaces its old
    records. A file is stored whole or not at all. Exits 1 if any file failed.
    """
    from .connectors.tabular import parse_mapping
    from .pipeline.ingest import ingest as run_ingest
    try:
        mapping = parse_mapping(map_ or [])
        project = find_project(project_dir, chroma_url)
        if project.create():
            console.print(f"Created project {project.root} (settings in {project.config_path.name})")
        project.vectors  # opens the store: a mismatched embedding fails before any work
        files = sum(1 for p in paths if p.is_file()) + sum(
            1 for p in paths if p.is_dir() for f in p.rglob("*") if f.is_file())
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task("ingesting", total=files)
            reports = run_ingest(project, paths, kind.value if kind else None, mapping,
                                 on_file=lambda r: bar.update(task, advance=1, description=r.path[-40:]))
    except ValuestoryError as exc:
        raise _fail(exc)
    _print_ingest_summary(reports)
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(1)


def _print_ingest_summary(reports) -> None:
    table = Table(title="Ingest summary", show_lines=False)
    for col in ("file", "kind", "status", "records", "chunks", "encoding", "notes"):
        table.add_column(col, justify="right" if col in ("records", "chunks") else "left")
    style = {"stored": "green", "unchanged": "dim", "failed": "red", "skipped": "yellow"}
    for r in reports:
        notes = r.message
        if r.status == "stored":
            change = [f"+{r.added} new"] if r.added else []
            change += [f"{r.changed} changed"] if r.changed else []
            change += [f"-{r.removed} removed"] if r.removed else []
            red = ", ".join(f"{n} {k}" for k, n in sorted(r.redactions.items()))
            notes = "; ".join(filter(None, [", ".join(change), f"redacted {red}" if red else ""]))
        table.add_row(escape(_shown(r.path)), r.kind, f"[{style[r.status]}]{r.status}[/]",
                      str(r.records or ""), str(r.chunks or ""), r.encoding, escape(notes))
    console.print(table)
    counts = {s: sum(1 for r in reports if r.status == s) for s in ("stored", "unchanged", "failed", "skipped")}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no files")
    for r in reports:
        if r.status == "failed":
            err.print(f"[red]failed:[/red] {escape(r.message)}", highlight=False)


@app.command()
def sources(project_dir: ProjectOpt = None, chroma_url: ChromaOpt = None) -> None:
    """What is stored: per kind, and per source file."""
    try:
        project = find_project(project_dir, chroma_url).require()
        ledger = project.ledger
        rows = ledger.counts_by_kind()
        vectors = project.vectors
    except ValuestoryError as exc:
        raise _fail(exc)
    table = Table(title=f"{project.root.name}: stored per kind")
    for col in ("kind", "sources", "records", "chunks", "tokens", "dates"):
        table.add_column(col, justify="left" if col in ("kind", "dates") else "right")
    for kind, n_sources, n_records, n_chunks, n_tokens in rows:
        first, last = ledger.date_range(kind)
        table.add_row(kind, str(n_sources), str(n_records), str(n_chunks), str(n_tokens),
                      f"{first} to {last}" if first else "")
    console.print(table)
    files = Table(title="sources")
    for col in ("source", "kind", "records", "chunks", "encoding", "ingested"):
        files.add_column(col, justify="right" if col in ("records", "chunks") else "left")
    for s in ledger.sources():
        files.add_row(escape(_shown(s.path)), s.kind, str(s.records), str(s.chunks), s.encoding, s.ingested_at)
    console.print(files)
    console.print(f"vector index: {vectors.count()} chunks in '{vectors.name}' at {vectors.where}, "
                  f"embedding {vectors.embedder.name}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.", show_default=False)],
    n: Annotated[int, typer.Option("-n", "--limit", min=1, max=200, help="How many hits.")] = 10,
    kind: Annotated[Optional[Kind], typer.Option("--kind", "-k", help="Only this kind of source.",
                                                 show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as JSON.")] = False,
    project_dir: ProjectOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Semantic search over everything ingested; each hit shows its record, kind, source and
    the matching passage."""
    from .pipeline.search import search as run_search
    try:
        project = find_project(project_dir, chroma_url).require()
        hits = run_search(project, query, n, kind.value if kind else None)
    except ValuestoryError as exc:
        raise _fail(exc)
    if as_json:
        console.print_json(json.dumps(hits, ensure_ascii=False))
        return
    if not hits:
        console.print("No hits: nothing is stored yet, or nothing of this kind.")
        return
    table = Table(title=f"search: {query}", show_lines=True)
    for col in ("score", "record", "kind", "source", "passage"):
        table.add_column(col, overflow="fold")
    for h in hits:
        table.add_row(f"{h['score']:.2f}", escape(h["record_id"]), h["kind"],
                      escape(f"{_shown(h['source'])} ({h['locator']})"), escape(h["snippet"]))
    console.print(table)


# USD per million tokens (input, output), for --dry-run estimates of known models.
PRICES = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.0), "gpt-4.1": (2.0, 8.0),
          "gpt-4.1-mini": (0.40, 1.60), "gpt-4.1-nano": (0.10, 0.40)}


@app.command()
def run(
    llm: Annotated[Optional[str], typer.Option(
        "--llm", help="offline (default: no model, no key), openai:MODEL (OPENAI_API_KEY), or "
                      "compat:MODEL@URL for any OpenAI-compatible endpoint. Also [run] llm in valuestory.toml.",
        show_default=False)] = None,
    codebook: Annotated[Optional[Path], typer.Option(
        "--codebook", help="Your touchpoints, YAML or CSV: name, description, examples, channel, owner, effort.",
        exists=True, dir_okay=False, show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the planned calls, tokens and cost; call nothing.")] = False,
    project_dir: ProjectOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Synthesize: touchpoint mentions with verbatim quotes, the touchpoint catalogue, and
    computed scores (emotional impact, functional performance, frequency, business impact),
    with the three touchpoints to fix first. Re-running on unchanged data costs nothing:
    model answers are cached by model, prompt version and prompt."""
    from .pipeline.synthesis import run_synthesis
    try:
        project = find_project(project_dir, chroma_url).require()
        spec = llm or project.config.run.llm
        if dry_run:
            _dry_run(project, spec, codebook)
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True) as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)
            result = run_synthesis(project, spec, codebook, progress)
    except ValuestoryError as exc:
        raise _fail(exc)
    _print_run_summary(result)
    console.print("Next: `valuestory report` writes the value story map (HTML or Markdown).")


class ReportFormat(str, Enum):
    html = "html"
    md = "md"


@app.command()
def report(
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="html: one self-contained file that opens "
                                                                     "offline; md: the same content as Markdown.")] = ReportFormat.html,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="File to write (default: "
                                                   "out/report.html or out/report.md in the project).",
                                                   show_default=False)] = None,
    project_dir: ProjectOpt = None,
) -> None:
    """Write the value story map of the latest run: summary and the three touchpoints to fix
    first, the journey per persona, the scorecard with charts, the touchpoint network,
    sensemaking hypotheses, the customer value map, opportunities, and an appendix where
    every quote is shown in its record."""
    from .pipeline.report import write
    try:
        project = find_project(project_dir).require()
        path = write(project, output or project.root / "out" / f"report.{fmt.value}", fmt.value)
        latest = project.ledger.latest_run()
    except ValuestoryError as exc:
        raise _fail(exc)
    console.print(f"Report written: {path}")
    _print_top_three(latest["summary"] if latest else {})


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


class Split(str, Enum):
    dev = "dev"
    test = "test"
    all = "all"


@app.command("eval")
def eval_(
    dataset: Annotated[Optional[Path], typer.Option(
        "--dataset", help="A folder with corpus/ and labels/ (default: ./data_samples).", file_okay=False,
        show_default=False)] = None,
    split: Annotated[Split, typer.Option("--split", help="Which labelled units to score: test (the honest "
                                                            "figure), dev (look at it while improving), or all.")] = Split.test,
    llm: Annotated[Optional[str], typer.Option("--llm", help="Engine to evaluate, as for `valuestory run`.",
                                               show_default=False)] = None,
    labels: Annotated[Optional[Path], typer.Option(
        "--labels", help="Your own coding of records in this project (CSV: record_id, touchpoint, polarity, "
                         "phase), checked against the latest run.", exists=True, dir_okay=False, show_default=False)] = None,
    compare: Annotated[Optional[tuple[str, str]], typer.Option(
        "--compare", help="Two recorded eval runs (ids or JSON files) side by side.", show_default=False)] = None,
    judge: Annotated[bool, typer.Option("--judge", help="Also score stories and hypotheses with the --llm model "
                                                        "against evaluations/rubrics.toml.")] = False,
    gate: Annotated[bool, typer.Option("--gate", help="Exit with status 1 if a metric falls below the thresholds.")] = False,
    thresholds: Annotated[Optional[Path], typer.Option(
        "--thresholds", help="Thresholds file for --gate (default: the packaged evaluations/thresholds.toml).",
        exists=True, dir_okay=False, show_default=False)] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the metrics as JSON to this file.",
                                                     show_default=False)] = None,
    project_dir: ProjectOpt = None,
) -> None:
    """Measure the pipeline against hand labels, with 95% bootstrap intervals, overall and per
    source kind. With --dataset (default ./data_samples) it runs the pipeline on the
    dataset's corpus in a scratch project; with --labels it checks the latest run of your
    project against your own coding: try it on 50 of your coded responses before you trust a
    run. Every eval is recorded under .valuestory/evals/ so that --compare can show what changed."""
    from .evaluations import runs
    from .evaluations.dataset import load_dataset, load_user_labels
    from .evaluations.harness import evaluate_dataset, evaluate_labels
    try:
        project = find_project(project_dir)
        folder = project.store_dir / "evals"
        if compare:
            _print_comparison(runs.compare(runs.load(compare[0], folder), runs.load(compare[1], folder)), compare)
            return
        spec = llm or (project.config.run.llm if project.exists else "offline")
        if labels:
            report = evaluate_labels(project.require(), load_user_labels(labels), str(labels),
                                     judge_llm=spec if judge else None)
        else:
            root = dataset or Path("data_samples")
            if not root.is_dir():
                raise ValuestoryError(f"No dataset at {root}: give --dataset DIR (a folder with corpus/ and labels/), "
                                      "or --labels FILE to check your own project")
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, transient=True) as bar:
                tasks: dict[str, int] = {"ingest": bar.add_task("ingest and run", total=None)}

                def progress(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(stage, total=total)
                    bar.update(tasks[stage], completed=done, total=total)
                report = evaluate_dataset(load_dataset(root), split.value, spec, progress, judge=judge)
        saved = runs.save(report, folder)
        limits = runs.thresholds(thresholds) if gate else {}
    except ValuestoryError as exc:
        raise _fail(exc)
    _print_eval(runs.to_json(report))
    err.print(f"recorded as {report['eval_id']} ({_shown(str(saved))})")
    if json_out:
        json_out.write_text(json.dumps(runs.to_json(report), indent=1), encoding="utf-8")
        err.print(f"wrote {json_out}")
    if gate:
        failures = runs.gate(report, limits)
        for f in failures:
            err.print(f"[red]below the gate:[/red] {escape(f)}")
        if failures:
            raise typer.Exit(1)
        err.print("gate: every threshold met")


def _fmt(e: dict | None) -> str:
    """An estimate as saved in an eval run: value [ci_low, ci_high]."""
    value, low, high = ((e or {}).get(k) for k in ("value", "ci_low", "ci_high"))
    if value is None:
        return ""
    return f"{value:.3f} [{low:.2f}, {high:.2f}]" if low is not None and high is not None else f"{value:.3f}"


def _print_eval(report: dict) -> None:
    from .evaluations.runs import HEADLINE
    kinds = list(report.get("by_kind", {}))
    table = Table(title=f"{report['engine']} ({report['model'] or 'no model'}) on {escape(report['dataset'])}, split "
                        f"{report['split']}: {report['units']} units; 95% bootstrap intervals")
    table.add_column("metric")
    table.add_column("overall", justify="right")
    for k in kinds:
        table.add_column(k, justify="right")
    names = [m for m in HEADLINE if m in report["metrics"]] + sorted(m for m in report["metrics"] if m.startswith("judge_"))
    for name in names:
        table.add_row(name, _fmt(report["metrics"][name]),
                      *[(_fmt(report["by_kind"][k].get(name)).split(" [")[0]) for k in kinds])
    console.print(table)
    m = report.get("matching", {})
    console.print(f"touchpoint names matched to the gold catalogue by name, words, then meaning "
                  f"(threshold {m.get('touchpoint_name_threshold')}); jobs by meaning (threshold "
                  f"{m.get('job_threshold', '-')}); {report.get('seconds', 0):.1f} s")


def _print_comparison(rows: list[dict], names: tuple[str, str]) -> None:
    table = Table(title="eval runs compared")
    for col in ("metric", names[0], names[1], "difference", "outside intervals"):
        table.add_column(escape(col), justify="left" if col == "metric" else "right")
    for r in rows:
        table.add_row(r["metric"], *(f"{v:.3f}" if v is not None else "" for v in (r["a"], r["b"])),
                      f"{r['difference']:+.3f}" if r["difference"] is not None else "",
                      {True: "yes", False: "no", None: ""}[r["outside_intervals"]])
    console.print(table)


def _dry_run(project: Project, spec: str, codebook: Path | None) -> None:
    from .pipeline.catalogue import load_codebook
    from .pipeline.llm_mentions import plan
    from .pipeline.models import make_model
    model = make_model(spec)
    if model is None:
        console.print("The offline engine makes no model calls and costs nothing.")
        return
    records = list(project.ledger.records())
    p = plan(project, records, load_codebook(codebook) if codebook else None, model.name)
    console.print(f"model: {model.name}")
    console.print(f"mentions stage: {p['calls']} calls ({p['cached']} answered from the cache), "
                  f"{p['tokens_in']:,} input tokens to send for {p['corpus_tokens']:,} tokens of customer text")
    console.print("catalogue stage: 1 small call (names and descriptions of new touchpoints)")
    from .pipeline.narrative import plan as narrative_plan
    from .pipeline.personas import assign, personas_for
    personas = len(set(assign(records, personas_for(records, project.config.personas)).values()))
    n = narrative_plan(personas)
    console.print(f"value story and opportunities stages: up to {n['calls']} calls ({personas} personas + 1), "
                  f"at most about {n['max_tokens']:,} input tokens of retrieved passages and instructions")
    console.print("token counts use the cl100k vocabulary: an estimate for models with another one")
    price = PRICES.get(spec.partition(":")[2]) if spec.startswith("openai:") else None
    if price:
        out_tokens = p["tokens_in"] * 0.3
        cost = (p["tokens_in"] * price[0] + out_tokens * price[1]) / 1e6
        console.print(f"estimated cost: ${cost:.2f} (output estimated at 30% of input)")


def _print_run_summary(result) -> None:
    card = result.scorecard
    table = Table(title=f"Touchpoints by priority ({result.engine}, {result.model})")
    for col in ("rank", "touchpoint", "mentions", "emotional impact", "did its job", "NPS impact", "priority"):
        table.add_column(col, justify="left" if col == "touchpoint" else "right")
    for s in [s for s in card.scores if s.scope == "overall" and s.rank is not None][:10]:
        ei, fp, ni = s.emotional_impact, s.functional_performance, s.nps_impact
        table.add_row(str(s.rank), escape(s.touchpoint), str(s.mentions),
                      f"{ei.value:+.2f} [{ei.low:+.2f}, {ei.high:+.2f}]" if ei.low is not None else f"{ei.value:+.2f}",
                      f"{fp.value:.0%}" if fp.value is not None else "",
                      f"{ni.value:+.1f} [{ni.low:+.1f}, {ni.high:+.1f}]" if ni.value is not None else "",
                      f"{s.priority:.3f}")
    console.print(table)
    console.print(f"Fix first: {', '.join(card.fix_first) or 'nothing ranks yet'}")
    console.print(f"Easy fixes: {', '.join(card.easy_fixes) or 'none found'}")
    calls = result.calls
    console.print(f"{len(result.mentions)} mentions of {len(result.touchpoints)} touchpoints; groundedness "
                  f"{result.groundedness:.1%} ({result.dropped_quotes} ungrounded quotes dropped); "
                  f"{calls['calls']} model calls ({calls['cache_hits']} cached"
                  + (f"; structured output by {', '.join(calls['modes'])}" if calls["modes"] else "") + "), "
                  f"{calls['tokens_in']:,} tokens in, {calls['tokens_out']:,} out; run {result.run_id}")


EXPORTS = {
    "mentions": ("SELECT record_id, kind, touchpoint, channel, sentiment, polarity, did_job, confidence, quote, "
                 "start, \"end\", chunk_id, engine, model, prompt_version, run_id FROM mentions WHERE run_id = ? "
                 "ORDER BY rowid"),
    "touchpoints": ("SELECT name AS touchpoint, description, channel, mentions, respondents, owner, effort, origin "
                    "FROM touchpoints WHERE run_id = ? ORDER BY mentions DESC"),
    "decisions": ("SELECT persona, record_id, kind, respondent, decision, phase, outcome, quote, start, \"end\", "
                  "position, touchpoints FROM decisions WHERE run_id = ? ORDER BY persona, record_id, position"),
    "journeys": ("SELECT persona, phase, stage, purchase, touchpoint, ROUND(AVG(sentiment), 3) AS emotional_impact, "
                 "COUNT(*) AS mentions, COUNT(DISTINCT record_id) AS records FROM mentions WHERE run_id = ? "
                 "GROUP BY persona, phase, stage, purchase, touchpoint ORDER BY persona, CASE phase "
                 "WHEN 'Imbalance' THEN 1 WHEN 'Challenge' THEN 2 WHEN 'Engagement' THEN 3 "
                 "WHEN 'Transformation' THEN 4 ELSE 5 END, mentions DESC"),
}


def _score_rows(ledger, run_id: str) -> list[dict]:
    rows = []
    for r in ledger.rows("SELECT data FROM scores WHERE run_id = ? ORDER BY rowid", (run_id,)):
        s = json.loads(r["data"])
        rows.append({"touchpoint": s["touchpoint"], "scope": s["scope"],
                     "emotional_impact": s["emotional_impact"]["value"],
                     "emotional_impact_low": s["emotional_impact"]["low"],
                     "emotional_impact_high": s["emotional_impact"]["high"],
                     "functional_performance": s["functional_performance"]["value"],
                     "frequency": s["frequency"], "mentions": s["mentions"], "respondents": s["respondents"],
                     "business_impact": s["business_impact"], "nps_impact": s["nps_impact"]["value"],
                     "nps_impact_low": s["nps_impact"]["low"], "nps_impact_high": s["nps_impact"]["high"],
                     "nps_mentioners": s["nps_mentioners"], "lost_deal_rate": s["lost_deal_rate"],
                     "churn_rate": s["churn_rate"],
                     "effort": s["effort"], "priority": s["priority"], "rank": s["rank"]})
    return rows


OUTPUT_COLUMNS = {
    "roles": ["persona", "phase", "role", "transactional_role", "target_story", "assessment", "strength",
              "mentions", "supporting_touchpoints", "undermining_touchpoints", "engine"],
    "opportunities": ["touchpoint", "rank", "hypothesis", "change", "resources", "success_measure",
                      "unintended_consequences", "friction", "evidence", "quotes", "engine"],
    "stories": ["persona", "decision", "explicit_story", "implicit_story", "confidence", "evidence", "focus",
                "engine"],
    "valuemap": ["persona", "job", "desired_outcome", "key_touchpoints", "high_points", "friction", "value_gap",
                 "internal_processes", "opportunities", "value_promise", "statements", "evidence", "engine"],
}


def _output_rows(ledger, run_id: str, what: str, fmt: Format) -> list[dict]:
    rows = [json.loads(r["data"]) for r in ledger.rows(
        "SELECT data FROM outputs WHERE run_id = ? AND kind = ? ORDER BY rowid", (run_id, what))]
    if what == "valuemap" and fmt is Format.csv:  # one row per persona and job
        rows = [{"persona": v["persona"], **job, "engine": v["engine"]} for v in rows for job in v["jobs"]]
    if fmt is Format.csv:  # lists become ' | '-separated cells
        rows = [{c: " | ".join(map(str, r[c])) if isinstance(r[c], list) else r[c] for c in OUTPUT_COLUMNS[what]}
                for r in rows]
    return rows


def _write_rows(rows: list[dict], fmt: Format, output: Optional[Path], what: str) -> None:
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt is Format.json:
            json.dump(rows, out, ensure_ascii=False, indent=1)
            out.write("\n")
        elif rows:
            writer = csv.DictWriter(out, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    finally:
        if output:
            out.close()
    if output:
        err.print(f"wrote {len(rows)} {what} to {output}")


def _export_run(what: str, fmt: Format, output: Optional[Path], project_dir: Optional[Path]) -> None:
    try:
        project = find_project(project_dir).require()
        latest = project.ledger.latest_run()
        if latest is None:
            raise ValuestoryError("No finished run yet: run `valuestory run` first")
        if what == "scores":
            rows = _score_rows(project.ledger, latest["run_id"])
        elif what in EXPORTS:
            rows = project.ledger.rows(EXPORTS[what], (latest["run_id"],))
        else:
            rows = _output_rows(project.ledger, latest["run_id"], what, fmt)
    except ValuestoryError as exc:
        raise _fail(exc)
    _write_rows(rows, fmt, output, what)


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="csv or json.")]
OutputOpt = Annotated[Optional[Path], typer.Option("-o", "--output", help="File to write (default: standard output).",
                                                   show_default=False)]


@export_app.command("mentions")
def export_mentions(fmt: FormatOpt = Format.csv, output: OutputOpt = None, project_dir: ProjectOpt = None) -> None:
    """The latest run's mentions: record, touchpoint, sentiment, polarity, confidence and the
    verbatim quote with its character span in the record."""
    _export_run("mentions", fmt, output, project_dir)


@export_app.command("touchpoints")
def export_touchpoints(fmt: FormatOpt = Format.csv, output: OutputOpt = None, project_dir: ProjectOpt = None) -> None:
    """The latest run's touchpoint catalogue: name, description, channel, mentions, respondents."""
    _export_run("touchpoints", fmt, output, project_dir)


@export_app.command("scores")
def export_scores(fmt: FormatOpt = Format.csv, output: OutputOpt = None, project_dir: ProjectOpt = None) -> None:
    """The latest run's scores per touchpoint, overall and per source kind, with intervals."""
    _export_run("scores", fmt, output, project_dir)


@export_app.command("decisions")
def export_decisions(fmt: FormatOpt = Format.csv, output: OutputOpt = None, project_dir: ProjectOpt = None) -> None:
    """The latest run's pivotal decisions: persona, record, decision (inciting incident,
    intention, investment, interpretation, integration, churn), phase, verbatim quote with its
    span, position in the respondent's journey, and the touchpoints involved."""
    _export_run("decisions", fmt, output, project_dir)


@export_app.command("journeys")
def export_journeys(fmt: FormatOpt = Format.csv, output: OutputOpt = None, project_dir: ProjectOpt = None) -> None:
    """The latest run's journeys: per persona, phase (Imbalance, Challenge, Engagement,
    Transformation) and classic stage, each touchpoint's emotional impact and mentions."""
    _export_run("journeys", fmt, output, project_dir)


@export_app.command("roles")
def export_roles(fmt: FormatOpt = Format.csv, output: OutputOpt = None, project_dir: ProjectOpt = None) -> None:
    """The latest run's roles: per persona and phase, the company's role (Empathizer,
    Storyteller, Guide, Partner; Provider or Enabler), the target story, a drafted assessment
    from the phase's evidence, and the touchpoints supporting and undermining it."""
    _export_run("roles", fmt, output, project_dir)


@export_app.command("opportunities")
def export_opportunities(fmt: FormatOpt = Format.csv, output: OutputOpt = None, project_dir: ProjectOpt = None) -> None:
    """The latest run's improvement hypotheses: five for each touchpoint to fix first and each
    easy fix, with the change, resources, success measure, unintended consequences and the
    records whose words motivate it."""
    _export_run("opportunities", fmt, output, project_dir)


@export_app.command("stories")
def export_stories(fmt: FormatOpt = Format.csv, output: OutputOpt = None, project_dir: ProjectOpt = None) -> None:
    """The latest run's sensemaking hypotheses: per persona and pivotal decision, the explicit
    and implicit stories, confidence and the records they rest on. JSON adds the context
    (identity, backstory, situation) and motivators, each statement with its record."""
    _export_run("stories", fmt, output, project_dir)


@export_app.command("valuemap")
def export_valuemap(fmt: FormatOpt = Format.csv, output: OutputOpt = None, project_dir: ProjectOpt = None) -> None:
    """The latest run's customer value map: per persona and job, the desired outcome, key
    touchpoints, high points, friction, value gap in the customers' words, internal
    processes, opportunities and value promise. JSON adds each persona's empathy map."""
    _export_run("valuemap", fmt, output, project_dir)


@export_app.command("records")
def export_records(
    fmt: FormatOpt = Format.csv,
    output: OutputOpt = None,
    kind: Annotated[Optional[Kind], typer.Option("--kind", "-k", help="Only this kind.", show_default=False)] = None,
    project_dir: ProjectOpt = None,
) -> None:
    """Every stored record (text as stored, i.e. redacted): record_id, kind, source, text and
    the normalized fields. JSON also carries the speaker turns with their offsets."""
    try:
        project = find_project(project_dir).require()
        records = list(project.ledger.records(kind.value if kind else None))
    except ValuestoryError as exc:
        raise _fail(exc)
    if fmt is Format.json:
        rows = [r.model_dump() for r in records]
    else:
        columns = {"record_id", "kind", "source", "locator", "respondent", "account", "date", "segment",
                   "score", "text"}
        rows = [{**r.model_dump(include=columns),
                 "fields": json.dumps(r.fields, ensure_ascii=False) if r.fields else ""} for r in records]
    _write_rows(rows, fmt, output, "records")


@app.command()
def forget(
    sources_: Annotated[list[str], typer.Argument(metavar="SOURCE...", help="Source paths as `valuestory sources` lists them.")],
    project_dir: ProjectOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Remove sources with their records and chunks, from the ledger and the vector index."""
    from .pipeline.ingest import forget as run_forget
    try:
        project = find_project(project_dir, chroma_url).require()
        for source in sources_:
            removed = run_forget(project, source)
            console.print(f"forgot {source}: {removed} records")
    except ValuestoryError as exc:
        raise _fail(exc)


@app.command()
def reindex(
    embedding: Annotated[Optional[str], typer.Option(
        "--embedding", "-e", help="Embedding model to switch to (and write to valuestory.toml): "
                                  "wordllama, minilm, openai:MODEL.", show_default=False)] = None,
    project_dir: ProjectOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Re-embed every stored chunk (after changing the embedding model) from the ledger."""
    from .pipeline.ingest import reindex as run_reindex
    try:
        project = find_project(project_dir, chroma_url).require()
        n = run_reindex(project, embedding)
    except ValuestoryError as exc:
        raise _fail(exc)
    console.print(f"re-embedded {n} chunks with {project.config.store.embedding}")


if __name__ == "__main__":
    app()
