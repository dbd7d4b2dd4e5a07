"""NPS and CSAT survey exports (CSV, TSV, XLSX): a 0-10 score, a comment, date and segment."""

from __future__ import annotations

from valuestory.records import Record

from .base import Connector, ParseOptions, connectors
from .files import SourceFile
from .rows import RowReader, common_specs
from .tabular import FieldSpec, Table, find_columns, is_number, mostly_numbers, mostly_text, parse_score, require

SCORE = FieldSpec(
    exact=("score", "nps", "nps score", "rating", "likelihood to recommend", "ltr",
           "recommend", "recommendation", "likely to recommend", "how likely"),
    contains=("recommend", "nps", "score", "likely", "rating"),
    avoid=("group", "category", "segment", "comment", "reason", "why", "type", "id"),
    accept=mostly_numbers,
)
COMMENT = FieldSpec(
    exact=("comment", "comments", "feedback", "reason", "verbatim", "response", "answer", "text",
           "open text", "why", "open ended", "follow up", "additional comments", "nps comment"),
    contains=("comment", "why", "reason", "feedback", "tell us", "improve", "explain",
              "verbatim", "anything else", "what", "text"),
    avoid=("id", "date", "email"),
    accept=mostly_text,
    prefer_longest_text=True,
)
SPECS = common_specs(score=SCORE, text=COMMENT)
IN_SCALE = 0.9  # share of a column's numbers on the 0-10 scale for it to be an NPS score


def fit(table: Table) -> float:
    cols = find_columns(table, {"score": SCORE}, {}, None)
    header = cols.columns.get("score")
    if not header:
        return 0.0
    values = [float(v.replace(",", ".")) for r in table.rows[:200]
              if is_number(v := r.values.get(header, ""))]
    scale = [v for v in values if 0 <= v <= 10]
    recommend = any(w in header.lower() for w in ("recommend", "nps", "likely"))
    # A stray 11 in a survey is a typo the parser reports by its line, not a reason to read
    # the file as another kind (and drop its scores): the file stays NPS while most scores
    # (or its header) say so; a column mostly off the scale is not an NPS score.
    if not scale or (len(scale) < IN_SCALE * len(values) and not recommend):
        return 0.0
    values = scale
    # A 0-10 scale is NPS's own; 1-5 stars are more likely a review or CSAT rating.
    if max(values) <= 5 and not recommend:
        return 0.5
    return 2.5 + recommend


def parse(src: SourceFile, options: ParseOptions) -> list[Record]:
    rows = RowReader(src, "nps", SPECS, options.mapping)
    require(rows.cols, ["score"], rows.table, src, "nps")
    score_header = rows.header("score")
    records = []
    for row in rows.table.rows:
        score = parse_score(rows.get(row, "score"), row, score_header, src, 0, 10)
        records.append(Record(**rows.common(row), score=score, text=rows.get(row, "text")))
    return records


connectors.register("nps")(Connector(
    kind="nps", describe="NPS/CSAT survey export: 0-10 score, comment, date, segment",
    parse=parse, fit=fit, folder_words=("nps", "survey", "csat"),
))
