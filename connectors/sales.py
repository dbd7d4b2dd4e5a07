"""CRM exports of sales opportunities: account, stage, amount, notes, won/lost reason."""

from __future__ import annotations

import re

from valuestory.records import Record

from .base import Connector, ParseOptions, connectors, signal_fit
from .files import SourceFile
from .rows import RowReader, common_specs
from .tabular import FieldSpec, Table, day_first, mostly_text, parse_date, require

ACCOUNT = FieldSpec(
    exact=("account", "account name", "company", "company name", "organization", "customer",
           "client", "opportunity", "opportunity name", "deal", "deal name"),
    contains=("account", "company", "organization", "opportunity name", "deal name"),
    avoid=("id", "owner", "type"),
)
STAGE = FieldSpec(exact=("stage", "deal stage", "opportunity stage", "status", "pipeline stage"),
                  contains=("stage",))
AMOUNT = FieldSpec(exact=("amount", "value", "deal value", "deal amount", "arr", "acv", "mrr",
                          "contract value", "revenue"),
                   contains=("amount", "value", "arr", "acv", "revenue"), avoid=("id",))
NOTES = FieldSpec(
    exact=("notes", "note", "description", "call notes", "meeting notes", "next step",
           "next steps", "comments", "summary", "details"),
    contains=("note", "description", "comment", "summary", "next step"),
    avoid=("id", "reason"),
    accept=mostly_text,
    prefer_longest_text=True,
)
REASON = FieldSpec(
    exact=("reason", "loss reason", "lost reason", "win reason", "won reason", "closed lost reason",
           "win loss reason", "win/loss reason", "reason lost", "reason won"),
    contains=("reason",),
)
CLOSE_DATE = FieldSpec(exact=("close date", "closed date", "closed at", "date closed"),
                       contains=("close date", "closed"))
OWNER = FieldSpec(exact=("owner", "opportunity owner", "deal owner", "sales rep", "rep", "ae"),
                  contains=("owner", "rep"))
SPECS = common_specs(account=ACCOUNT, stage=STAGE, amount=AMOUNT, text=NOTES, reason=REASON,
                     close_date=CLOSE_DATE, owner=OWNER)
SIGNALS = {"stage": STAGE, "amount": AMOUNT, "reason": REASON, "close_date": CLOSE_DATE,
           "owner": OWNER, "account": ACCOUNT}


def outcome(stage: str) -> str:
    s = stage.lower()
    if re.search(r"\b(lost|closed lost|dead|disqualified|no decision)\b", s):
        return "lost"
    if re.search(r"\b(won|closed won|signed)\b", s):
        return "won"
    return "open"


def fit(table: Table) -> float:
    return signal_fit(table, SIGNALS) * 0.9


def _amount(value: str) -> str:
    digits = re.sub(r"[^\d.,-]", "", value).replace(",", "")
    try:
        return f"{float(digits):g}"
    except ValueError:
        return value


def parse(src: SourceFile, options: ParseOptions) -> list[Record]:
    rows = RowReader(src, "sales", SPECS, options.mapping)
    require(rows.cols, ["text", "reason"], rows.table, src, "sales")
    close_header = rows.header("close_date")
    close_dayfirst = day_first([rows.get(r, "close_date") for r in rows.table.rows])
    records = []
    for row in rows.table.rows:
        common = rows.common(row)
        stage = rows.get(row, "stage")
        notes, reason = rows.get(row, "text"), rows.get(row, "reason")
        result = outcome(stage)
        fields = common["fields"]
        fields.update({k: v for k, v in {
            "stage": stage, "outcome": result, "amount": _amount(rows.get(row, "amount")),
            "reason": reason, "owner": rows.get(row, "owner"),
            "close_date": parse_date(rows.get(row, "close_date"), row, close_header, src, close_dayfirst),
        }.items() if v})
        parts = [notes] if notes else []
        if reason:
            label = {"won": "Won reason", "lost": "Lost reason"}.get(result, "Reason")
            parts.append(f"{label}: {reason}")
        common["account"] = rows.get(row, "account") or None
        records.append(Record(**common, text="\n\n".join(parts)))
    return records


connectors.register("sales")(Connector(
    kind="sales", describe="CRM export: account, stage, amount, notes, won/lost reason, dates",
    parse=parse, fit=fit, folder_words=("sales", "crm", "deals", "opportunities", "pipeline"),
))
