"""`valuestory eval`: the pipeline measured against hand labels, recorded and compared."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from valuestory.errors import ValuestoryError
from valuestory.project import find_project

from .common import ProjectOpt, console, err, handles_errors, progress, shown

app = typer.Typer()


class Split(str, Enum):
    dev = "dev"
    test = "test"
    all = "all"


@app.command("eval")
@handles_errors
def eval_(
    dataset: Annotated[Optional[Path], typer.Option(
        "--dataset", help="A folder with corpus/ and labels/ (default: ./data_samples).", file_okay=False,
        show_default=False)] = None,
    split: Annotated[Split, typer.Option("--split", help="Which labelled units to score: test (the honest "
                                                            "figure), dev (look at it while improving), or all.")] = Split.test,
    llm: Annotated[Optional[str], typer.Option("--llm", "-l", help="Engine to evaluate, as for `valuestory run`.",
                                               show_default=False)] = None,
    codebook: Annotated[bool, typer.Option(
        "--codebook", help="Code against the dataset's own catalogue (labels/catalogue.csv) as the codebook, as a "
                           "researcher with a codebook runs it; without it the run induces its touchpoints.")] = False,
    labels: Annotated[Optional[Path], typer.Option(
        "--labels", help="Your own coding of records in this project (CSV: record_id, touchpoint, polarity, "
                         "phase), checked against the latest run.", exists=True, dir_okay=False, show_default=False)] = None,
    learn: Annotated[bool, typer.Option(
        "--learn", help="With --labels: keep your coding as verdicts on the run's mentions (confirm, polarity, "
                        "reassign, reject) that the next run applies and learns from, as `valuestory review` does.")] = False,
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
    run. With --codebook the dataset's catalogue is the run's codebook (deductive coding);
    without it the run finds its own touchpoints (inductive). Every eval is recorded under
    .valuestory/evals/ so that --compare can show what changed."""
    from valuestory.evaluations import runs
    from valuestory.evaluations.dataset import load_dataset, load_user_labels
    from valuestory.evaluations.harness import evaluate_dataset, evaluate_labels
    project = find_project(project_dir)
    folder = project.store_dir / "evals"
    if compare:
        _print_comparison(runs.compare(runs.load(compare[0], folder), runs.load(compare[1], folder)), compare)
        return
    spec = llm or (project.config.run.llm if project.exists else "offline")
    if labels and codebook:
        raise ValuestoryError("--codebook codes a --dataset against its catalogue; with --labels the latest run of "
                              "your project is checked as it was run (run it with `valuestory run --codebook FILE`)")
    if learn and not labels:
        raise ValuestoryError("--learn keeps the verdicts of your own coding: give it with --labels FILE")
    if labels:
        coded = load_user_labels(labels)
        report = evaluate_labels(project.require(), coded, str(labels), judge_llm=spec if judge else None)
        if learn:
            _learn(project, coded)
    else:
        root = dataset or Path("data_samples")
        if not root.is_dir():
            raise ValuestoryError(f"No dataset at {root}: give --dataset DIR (a folder with corpus/ and labels/), "
                                  "or --labels FILE to check your own project")
        with progress() as update:
            update("ingest and run", 0, None)
            report = evaluate_dataset(load_dataset(root), split.value, spec, update, judge=judge, codebook=codebook)
    saved = runs.save(report, folder)
    limits = runs.thresholds(thresholds) if gate else {}
    _print_eval(runs.to_json(report))
    err.print(f"recorded as {report['eval_id']} ({shown(str(saved))})")
    if json_out:
        json_out.write_text(json.dumps(runs.to_json(report), indent=1), encoding="utf-8")
        err.print(f"wrote {json_out}")
    if gate:
        name, wanted = runs.section(runs.to_json(report), limits)
        failures = runs.gate(report, limits)
        for f in failures:
            err.print(f"[red]below the gate:[/red] {escape(f)}")
        if failures:
            raise typer.Exit(1)
        err.print(f"gate: every threshold of {escape(name)} met" if wanted else f"gate: no thresholds for {escape(name)}")


def _learn(project, coded) -> None:
    from collections import Counter

    from valuestory.evaluations.harness import label_corrections
    from valuestory.stores.lock import writing
    from valuestory.stores.recodes import RecodeStore
    decisions = label_corrections(project, coded)
    with writing(project.store_dir, "code"):
        store = RecodeStore(project.ledger)
        for d in decisions:
            store.add(d)
    said = Counter(d.action for d in decisions)
    err.print(f"kept {len(decisions)} verdict(s) from your labels ({', '.join(f'{n} {a}' for a, n in sorted(said.items()))}"
              f"): the next `valuestory run` applies them and learns from them; `valuestory code list` shows them")


def _fmt(e: dict | None) -> str:
    """An estimate as saved in an eval run: value [ci_low, ci_high]."""
    value, low, high = ((e or {}).get(k) for k in ("value", "ci_low", "ci_high"))
    if value is None:
        return ""
    return f"{value:.3f} [{low:.2f}, {high:.2f}]" if low is not None and high is not None else f"{value:.3f}"


def _print_eval(report: dict) -> None:
    from valuestory.evaluations.runs import HEADLINE
    kinds = list(report.get("by_kind", {}))
    coding = {True: "with its catalogue as the codebook", False: "inductive (no codebook)"}.get(report.get("codebook"))
    table = Table(title=f"{report['engine']} ({report['model'] or 'no model'}) on {escape(report['dataset'])}, split "
                        f"{report['split']}" + (f", {coding}" if coding else "")
                        + f": {report['units']} units; 95% bootstrap intervals")
    table.add_column("metric")
    table.add_column("overall", justify="right")
    for k in kinds:
        table.add_column(k, justify="right")
    names = [m for m in HEADLINE if m in report["metrics"]] + sorted(m for m in report["metrics"] if m.startswith("judge_"))
    for name in names:
        table.add_row(name, _fmt(report["metrics"][name]),
                      *[(_fmt(report["by_kind"][k].get(name)).split(" [")[0]) for k in kinds])
    console.print(table)
    if "disagreements" in report:  # a researcher's own coding: where they and the run differ, and why names met
        _print_labels(report)
        return
    m = report.get("matching", {})
    console.print(f"touchpoint names matched to the gold catalogue by name, words, then meaning "
                  f"(threshold {m.get('touchpoint_name_threshold')}); jobs by meaning (threshold "
                  f"{m.get('job_threshold', '-')}); {report.get('seconds', 0):.1f} s")


def _print_labels(report: dict) -> None:
    coded = report.get("coded") or []
    console.print(f"scored only what you coded: {', '.join(coded) or 'nothing (every column is blank)'}")
    matches = Table(title="How the run's touchpoint names were matched to yours")
    for col in ("run's name", "your name", "how", "similarity"):
        matches.add_column(col, overflow="fold")
    for m in report.get("matches", []):
        matches.add_row(escape(m["name"]), escape(m["matched"] or "(none)"), m["how"],
                        f"{m['similarity']:.2f}" if m["similarity"] is not None else "")
    console.print(matches)
    rows = report["disagreements"]
    if not rows:
        console.print("Disagreements: none; the run codes every record as you did")
        return
    table = Table(title=f"Disagreements: {len(rows)} (record, your code, the run's code, the words)", show_lines=True)
    for col in ("record", "what", "yours", "the run's", "quote"):
        table.add_column(col, overflow="fold")
    for d in rows:
        table.add_row(escape(d["unit"]), d["what"], escape(d["user"] or "-"), escape(d["run"] or "-"), escape(d["quote"]))
    console.print(table)


def _print_comparison(rows: list[dict], names: tuple[str, str]) -> None:
    table = Table(title="eval runs compared")
    for col in ("metric", names[0], names[1], "difference", "outside intervals"):
        table.add_column(escape(col), justify="left" if col == "metric" else "right")
    for r in rows:
        table.add_row(r["metric"], *(f"{v:.3f}" if v is not None else "" for v in (r["a"], r["b"])),
                      f"{r['difference']:+.3f}" if r["difference"] is not None else "",
                      {True: "yes", False: "no", None: ""}[r["outside_intervals"]])
    console.print(table)


