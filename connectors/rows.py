"""What every row-per-record connector shares: ids, dates, segments, respondents, leftovers."""

from __future__ import annotations

import hashlib

from valuestory.errors import InputError
from valuestory.records import QUESTION_FIELD

from .files import SourceFile
from .tabular import ColumnMap, FieldSpec, Row, Table, day_first, find_columns, parse_date, read_table

ID = FieldSpec(
    exact=("id", "response id", "responseid", "record id", "submission id", "survey response id",
           "ticket id", "ticket number", "ticket", "case id", "case number", "opportunity id",
           "deal id", "review id", "feedback id", "comment id", "uuid", "key"),
)
DATE = FieldSpec(
    exact=("date", "created", "created at", "created date", "date created", "submitted",
           "submitted at", "submitted date", "timestamp", "response date", "recorded date",
           "end date", "survey date", "completed", "completed at", "date submitted", "when"),
    contains=("date", "time", "created", "submitted"),
    avoid=("update", "modified", "due", "resolved", "closed", "close", "start"),
)
SEGMENT = FieldSpec(
    exact=("segment", "customer segment", "persona", "plan", "tier", "plan tier", "account tier",
           "customer type", "business type", "industry", "company size", "size", "region"),
    contains=("segment", "persona", "plan", "tier", "customer type", "business type"),
)
RESPONDENT = FieldSpec(
    exact=("email", "respondent", "respondent id", "respondent email", "customer id",
           "customer email", "user id", "user email", "contact", "contact email",
           "customer", "customer name", "name", "requester", "requester email", "user",
           # review sites and forms name the person who wrote it
           "reviewer", "reviewer name", "author", "author name", "full name", "client", "client name",
           "contact name", "participant", "participant name", "username", "user name", "display name",
           "submitted by", "written by", "posted by"),
    contains=("email", "respondent", "requester", "customer id", "user id", "reviewer", "author", "customer name",
              "client name", "full name", "participant"),
)


CONTENT_DIGEST = 10  # hex digits naming a row that has no id of its own
NOT_HEX = "ghijklmnop"  # stands for 0-9 where a digest would otherwise be all digits


def content_digest(values) -> str:
    """The name of an id-less row, from its content. Never all digits: a redactor would read
    `4155550132` as a phone number and show the record as `[phone]`, so such a digest takes a
    letter for its first digit (every other digest stays as it always was)."""
    digest = hashlib.sha1("\x1f".join(values).encode()).hexdigest()[:CONTENT_DIGEST]
    return NOT_HEX[int(digest[0])] + digest[1:] if digest.isdigit() else digest


def common_specs(**specific: FieldSpec) -> dict[str, FieldSpec]:
    """The kind's own fields first: they claim their columns before the generic ones."""
    return {**specific, "id": ID, "date": DATE, "segment": SEGMENT, "respondent": RESPONDENT}


class RowReader:
    """Reads a table once and turns each row's common fields into record keyword arguments."""

    def __init__(self, src: SourceFile, kind: str, specs: dict[str, FieldSpec],
                 mapping: dict[str, str], table: Table | None = None) -> None:
        self.src, self.kind = src, kind
        self.table: Table = table if table is not None else read_table(src)
        self.cols: ColumnMap = find_columns(self.table, specs, mapping, src)
        self.where = self.table.where
        date_col = self.cols.columns.get("date")
        self.dayfirst = day_first([r.values.get(date_col, "") for r in self.table.rows]) if date_col else False
        self._seen: dict[str, int] = {}

    def get(self, row: Row, name: str) -> str:
        return self.cols.get(row, name)

    def header(self, name: str) -> str:
        return self.cols.columns.get(name, name)

    def error(self, message: str, row: Row, name: str | None = None, hint: str = "") -> InputError:
        return InputError(message, path=self.src.display, line=row.line,
                          column=self.cols.columns.get(name) if name else None, hint=hint)

    def common(self, row: Row) -> dict:
        source_id = self.get(row, "id")
        if source_id:
            record_id = f"{self.kind}:{source_id}"
            if record_id in self._seen:
                raise self.error(f"duplicate id '{source_id}' (also on {self.where} "
                                 f"{self._seen[record_id]})", row, "id",
                                 hint="Each row needs its own id: remove the repeated row "
                                      "or map another id column with --map id=COLUMN")
        else:
            digest = content_digest(row.values.values())
            record_id = f"{self.kind}:{self.src.path.stem}:{digest}"
            n = 2
            while record_id in self._seen:  # the very same row twice: keep both, stably named
                record_id = f"{self.kind}:{self.src.path.stem}:{digest}-{n}"
                n += 1
        self._seen[record_id] = row.line
        used = set(self.cols.columns.values())
        locator = f"{self.where} {row.line}" + (f" of sheet {self.table.sheet}" if self.table.sheet else "")
        return {
            "record_id": record_id,
            "kind": self.kind,
            "source": self.src.display,
            "locator": locator,
            "date": parse_date(self.get(row, "date"), row, self.header("date"), self.src, self.dayfirst),
            "segment": self.get(row, "segment") or None,
            "respondent": self.get(row, "respondent") or None,
            "fields": {h: v for h, v in row.values.items() if v and h not in used} | self.asked,
        }

    @property
    def asked(self) -> dict[str, str]:
        """The question the text column asked, when its header is one ('Q2 - What is the
        main reason for your score?'): a short answer is read in its light."""
        header = self.cols.columns.get("text", "")
        question = header.split(" - ", 1)[1] if " - " in header else header
        return {QUESTION_FIELD: question.strip()} if question.strip().endswith("?") else {}
