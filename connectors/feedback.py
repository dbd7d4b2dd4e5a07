"""Any CSV/XLSX of free-text feedback: reviews, open answers, app-store comments."""

from __future__ import annotations

from valuestory.records import Record

from .base import Connector, ParseOptions, connectors
from .files import SourceFile
from .rows import RowReader, common_specs
from .tabular import FieldSpec, Table, find_columns, is_number, mostly_numbers, mostly_text, parse_score, require

TEXT = FieldSpec(
    exact=("text", "feedback", "review", "review text", "comment", "comments", "body", "content",
           "message", "answer", "response", "description", "verbatim", "what you said"),
    contains=("text", "feedback", "review", "comment", "body", "content", "message", "answer"),
    avoid=("id", "date", "title", "email"),
    accept=mostly_text,
    prefer_longest_text=True,
)
RATING = FieldSpec(
    exact=("score", "rating", "stars", "star rating", "csat", "satisfaction", "rating value"),
    contains=("rating", "score", "stars", "csat", "satisfaction"),
    avoid=("id", "comment", "date"),
    accept=mostly_numbers,
)
TITLE = FieldSpec(exact=("title", "review title", "headline", "summary"), contains=("title", "headline"))
CHANNEL = FieldSpec(exact=("source", "channel", "platform", "site", "store"), contains=("channel", "platform"))
SPECS = common_specs(text=TEXT, score=RATING, title=TITLE, channel=CHANNEL)


def fit(table: Table) -> float:
    # The fallback for tables with free text: it fits anything with a text column, weakly.
    return 1.0 if "text" in find_columns(table, {"text": TEXT}, {}, None) else 0.0


def parse(src: SourceFile, options: ParseOptions) -> list[Record]:
    rows = RowReader(src, "feedback", SPECS, options.mapping)
    require(rows.cols, ["text"], rows.table, src, "feedback")
    score_header = rows.header("score")
    scale = None
    if "score" in rows.cols:
        values = [float(v.replace(",", ".")) for r in rows.table.rows
                  if is_number(v := rows.get(r, "score"))]
        scale = "1-5" if values and min(values) >= 1 and max(values) <= 5 else "0-10"
    records = []
    for row in rows.table.rows:
        text = rows.get(row, "text")
        title = rows.get(row, "title")
        if title and title not in text:
            text = f"{title}\n\n{text}" if text else title
        common = rows.common(row)
        if scale:
            common["fields"]["score_scale"] = scale
        if channel := rows.get(row, "channel"):
            common["fields"]["channel"] = channel
        low, high = (1, 5) if scale == "1-5" else (0, 10)
        score = parse_score(rows.get(row, "score"), row, score_header, src, low, high) if scale else None
        records.append(Record(**common, score=score, text=text))
    return records


connectors.register("feedback")(Connector(
    kind="feedback", describe="any free-text feedback: reviews, open answers (id, text, score, date, segment)",
    parse=parse, fit=fit, folder_words=("feedback", "review", "reviews", "comments", "open-answers"),
))
