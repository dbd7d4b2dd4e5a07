"""`valuestory export KIND`: what a run found, or the stored records, as CSV or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from valuestory.project import find_project
from valuestory.render.exports import KINDS, write_csv
from valuestory.render.exports import rows as export_rows

from .common import (
    STDOUT,
    Format,
    FormatOpt,
    KindOpt,
    OutputOpt,
    PersonaOpt,
    ProjectOpt,
    SegmentOpt,
    SinceOpt,
    UntilOpt,
    err,
    handles_errors,
    slice_of,
)
from .runs import RunOpt, reader_of

app = typer.Typer(help="Export what the project holds, as CSV or JSON.", no_args_is_help=True)

HELP = {
    "emerging": """What your codebook does not cover yet (runs with --codebook): recurring themes
among the clauses no code fits, each with the records that raise it and example quotes with
their record ids. They are never in mentions or scores until you add them to the codebook.""",
    "mentions": """The latest run's mentions: record, touchpoint, sentiment, polarity, confidence and the
verbatim quote with its character span in the record.""",
    "touchpoints": """The latest run's touchpoint catalogue: name, description, channel, mentions, respondents.""",
    "codebook": """The codebook as you have shaped it (your renames, merges, splits and tags applied):
name, description, examples, channel, owner, effort, intended, tags, origin and mentions.
Give it to `valuestory run --codebook FILE` to code against it.""",
    "scores": """The latest run's scores per touchpoint, overall and per source kind, with intervals.""",
    "personas": """Per-persona scorecards: for each persona and touchpoint, the four dimensions and the
priority rank among that persona's touchpoints, with intervals, and `versus_rest`: its
emotional impact minus the other personas', with a 95% bootstrap interval;
`differs_from_rest` is 1 only when that interval excludes 0.""",
    "decisions": """The latest run's pivotal decisions: persona, record, decision (inciting incident,
intention, investment, interpretation, integration, churn), phase, verbatim quote with its
span, position in the respondent's journey, and the touchpoints involved.""",
    "journeys": """The latest run's journeys: per persona, phase (Imbalance, Challenge, Engagement,
Transformation) and classic stage, each touchpoint's emotional impact and mentions.""",
    "roles": """The latest run's roles: per persona and phase, the company's role (Empathizer,
Storyteller, Guide, Partner; Provider or Enabler), the target story, a drafted assessment
from the phase's evidence, and the touchpoints supporting and undermining it.""",
    "opportunities": """The latest run's improvement hypotheses: five for each touchpoint to fix first and each
easy fix, with the change, resources, success measure, unintended consequences and the
records whose words motivate it.""",
    "stories": """The latest run's sensemaking hypotheses: per persona and pivotal decision, the explicit
and implicit stories, confidence and the records they rest on. JSON adds the context
(identity, backstory, situation) and motivators, each statement with its record.""",
    "steps": """The latest run's journey steps: touchpoint a, then touchpoint b, and how many
customers take that step (in the order an interview tells it, or across a customer's dated
records, same respondent or account). The network's arrows are drawn from these.""",
    "briefs": """The latest run's persona briefs: the profile computed from the records, the focus
phase and decision chosen from the data with the figures behind the choice, and the
transformational storyline (the customers' own before-and-after sentences, with a model's
drafted summary when one ran).""",
    "promises": """The latest run's broken promises (expectation vs delivery): per touchpoint, what a
customer was promised (a rep's CRM note, the customer reporting it, or the codebook's
`intended` column) beside the most negative later report of the same customer (else the
same persona), with how many records report it.""",
    "valuemap": """The latest run's customer value map: per persona and job, the desired outcome, key
touchpoints, high points, friction, value gap in the customers' words, internal
processes, opportunities and value promise. JSON adds each persona's empathy map.""",
}


def write_rows(rows: list[dict], fmt: Format, output: Optional[Path], what: str) -> None:
    if output is not None and str(output) == STDOUT:
        output = None
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt is Format.json:
            json.dump(rows, out, ensure_ascii=False, indent=1)
            out.write("\n")
        else:
            write_csv(rows, out)
    finally:
        if output:
            out.close()
    if output:
        err.print(f"wrote {len(rows)} {what} to {output}")


def _command(what: str):
    def command(fmt: FormatOpt = Format.csv, output: OutputOpt = None, run_id: RunOpt = None,
                segment: SegmentOpt = None, persona: PersonaOpt = None, kind: KindOpt = None, since: SinceOpt = None,
                until: UntilOpt = None, project_dir: ProjectOpt = None) -> None:
        project = find_project(project_dir).require()
        reader = reader_of(project, run_id)
        if cut := slice_of(segment, persona, kind, since, until):
            reader = reader.sliced(cut, list(project.ledger.records()))
        write_rows(export_rows(reader, what, csv=fmt is Format.csv), fmt, output, what)
    command.__doc__ = HELP[what]
    command.__name__ = f"export_{what}"
    return command


for _what in KINDS:
    app.command(_what)(handles_errors(_command(_what)))


@app.command("records")
@handles_errors
def export_records(
    fmt: FormatOpt = Format.csv,
    output: OutputOpt = None,
    kind: KindOpt = None,
    segment: SegmentOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    project_dir: ProjectOpt = None,
) -> None:
    """Every stored record (text as stored, i.e. redacted): record_id, kind, source, text and
    the normalized fields. JSON also carries the speaker turns with their offsets."""
    project = find_project(project_dir).require()
    records = list(project.ledger.records(kind.value if kind else None))
    if cut := slice_of(segment, None, None, since, until):
        keep = cut.record_ids(records, {})
        records = [r for r in records if r.record_id in keep]
    if fmt is Format.json:
        rows = [r.model_dump() for r in records]
    else:
        columns = {"record_id", "kind", "source", "locator", "respondent", "account", "date", "segment",
                   "score", "text"}
        rows = [{**r.model_dump(include=columns),
                 "fields": json.dumps(r.fields, ensure_ascii=False) if r.fields else ""} for r in records]
    write_rows(rows, fmt, output, "records")
