"""Tables from CSV, TSV and XLSX exports, and finding the columns that matter in them.

Column finding is by meaning of the header, not by one tool's exact spelling: each field
has exact names, then words a header may contain, then a check on the values (a score
column must hold numbers). `--map FIELD=COLUMN` overrides all of it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from dateutil import parser as dateparser

from valuestory.errors import InputError

from .files import SourceFile


@dataclass
class Row:
    line: int  # 1-based line (CSV) or row (XLSX) where the row starts
    values: dict[str, str]


@dataclass
class Table:
    headers: list[str]
    rows: list[Row]
    where: str = "line"  # how a row's position is named in messages
    sheet: str | None = None


def read_table(src: SourceFile) -> Table:
    if src.suffix == ".xlsx":
        return _read_xlsx(src)
    if src.suffix == ".xls":
        raise InputError("old .xls workbooks are not supported", path=src.display,
                         hint="Open it and save it as .xlsx or CSV")
    return _read_csv(src)


def _sniff_delimiter(text: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    first = next((line for line in text.split("\n", 50) if line.strip()), "")  # the header row
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(src: SourceFile) -> Table:
    text = src.text
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text, src.suffix),
                        strict=True)
    rows: list[Row] = []
    headers: list[str] | None = None
    try:
        line = 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if headers is None:
                headers = _clean_headers(values, src)
                continue
            if len(values) > len(headers):
                extra = [v for v in values[len(headers):] if v.strip()]
                if extra:
                    raise InputError(
                        f"{len(values)} fields where the header has {len(headers)}",
                        path=src.display, line=start,
                        hint="A comma inside a text field needs the field in double quotes; "
                             "fix the row or re-export the file")
            values = values + [""] * (len(headers) - len(values))
            rows.append(Row(start, {h: v.strip() for h, v in zip(headers, values, strict=False)}))
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", path=src.display, line=reader.line_num,
                         hint="Look for an unclosed double quote near that line") from exc
    if headers is None:
        raise InputError("no header row", path=src.display, hint="The first row must name the columns")
    return _qualtrics(Table(headers, rows))


def _qualtrics(table: Table) -> Table:
    """Qualtrics exports two more header rows: the question texts, then {"ImportId": ...}.
    The question text joins the short column name, so 'Q1' reads as the question it is."""
    rows = table.rows
    for i, row in enumerate(rows[:2]):
        if any(v.startswith('{"ImportId"') for v in row.values.values()):
            questions = rows[0].values if i == 1 else {}
            names = {h: f"{h} - {q}" if (q := questions.get(h, "")) and norm(q) != norm(h) else h
                     for h in table.headers}
            body = [Row(r.line, {names[h]: v for h, v in r.values.items()}) for r in rows[i + 1:]]
            return Table([names[h] for h in table.headers], body, table.where, table.sheet)
    return table


def _clean_headers(values: list[str], src: SourceFile) -> list[str]:
    headers = [v.strip() or f"column {i + 1}" for i, v in enumerate(values)]
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != datetime.min.time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(src: SourceFile) -> Table:
    import openpyxl
    src.check_not_empty()
    try:
        book = openpyxl.load_workbook(io.BytesIO(src.data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"cannot open as an Excel workbook ({type(exc).__name__})",
                         path=src.display, hint="Open and re-save it in Excel, or export CSV") from exc
    try:
        return _first_sheet(book, src)
    except InputError:
        raise
    except Exception as exc:  # a workbook can open and still fail on a damaged row
        raise InputError(f"the workbook opens but its rows cannot be read ({type(exc).__name__}: {exc})",
                         path=src.display, hint="Open and re-save it in Excel, or export CSV") from None
    finally:
        book.close()


def _first_sheet(book, src: SourceFile) -> Table:  # noqa: ANN001 - an openpyxl workbook
    """The first sheet that has data: survey tools put responses first."""
    for sheet in book.worksheets:
        headers: list[str] | None = None
        rows: list[Row] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            if headers is None:
                headers = _clean_headers(cells, src)
                continue
            cells = cells + [""] * (len(headers) - len(cells))
            rows.append(Row(number, dict(zip(headers, cells, strict=False))))
        if headers is not None:
            return _qualtrics(Table(headers, rows, where="row", sheet=sheet.title))
    raise InputError("the workbook has no data", path=src.display, hint="Export the responses sheet")


# --- finding columns -----------------------------------------------------------------------

def norm(header: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", header.lower()).split())


@dataclass
class FieldSpec:
    """How to recognise one field's column."""

    exact: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    accept: Callable[[list[str]], bool] | None = None  # a check on sample values
    prefer_longest_text: bool = False  # free text: when no header fits, the wordiest column


@dataclass
class ColumnMap:
    columns: dict[str, str] = field(default_factory=dict)  # field -> header

    def get(self, row: Row, name: str) -> str:
        header = self.columns.get(name)
        return row.values.get(header, "") if header else ""

    def __contains__(self, name: str) -> bool:
        return name in self.columns


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise InputError(f"--map '{pair}' is not FIELD=COLUMN",
                             hint="For example: --map score=\"How likely are you to recommend us?\"")
        mapping[name.strip().lower()] = column.strip()
    return mapping


def _mostly(values: list[str], test: Callable[[str], bool], share: float = 0.8) -> bool:
    filled = [v for v in values if v]
    return bool(filled) and sum(map(test, filled)) >= share * len(filled)


def is_number(value: str) -> bool:
    try:
        float(value.replace(",", "."))
        return True
    except ValueError:
        return False


def mostly_numbers(values: list[str]) -> bool:
    return _mostly(values, is_number)


def mostly_text(values: list[str]) -> bool:
    return _mostly(values, lambda v: not is_number(v), 0.5)


def header_score(spec: FieldSpec, header: str) -> int:
    """3 for an exact name, 2 for a telling word, 0 for no match. A header joined from a
    short name and a question ('Q1 - How likely ...') counts by its best part."""
    parts = [header, *header.split(" - ")] if " - " in header else [header]
    return max(_score_one(spec, norm(p)) for p in parts)


def _score_one(spec: FieldSpec, h: str) -> int:
    if any(a in h for a in spec.avoid):
        return 0
    if h in spec.exact:
        return 3
    if any(re.search(rf"\b{re.escape(c)}", h) for c in spec.contains):
        return 2
    return 0


def find_columns(table: Table, specs: dict[str, FieldSpec], mapping: dict[str, str],
                 src: SourceFile) -> ColumnMap:
    """Assign each field the best-matching unused header; --map entries are taken as given."""
    found: dict[str, str] = {}
    by_norm = {norm(h): h for h in table.headers}
    for name, column in mapping.items():
        if name not in specs:
            raise InputError(f"--map names an unknown field '{name}'", path=src.display,
                             hint=f"Fields for this kind: {', '.join(specs)}")
        header = column if column in table.headers else by_norm.get(norm(column))
        if header is None:
            raise InputError(f"--map {name}={column}: no such column", path=src.display,
                             hint=f"The columns are: {', '.join(table.headers)}")
        found[name] = header
    sample = table.rows[:200]
    for name, spec in specs.items():
        if name in found:
            continue
        taken = set(found.values())
        candidates = sorted(((header_score(spec, h), -i, h) for i, h in enumerate(table.headers)
                             if h not in taken), reverse=True)
        for score, _, header in candidates:
            if score == 0:
                break
            values = [r.values.get(header, "") for r in sample]
            # An exact name is trusted even with odd values, so that a bad value gets its own
            # error naming the line, rather than the column going unnoticed.
            if score == 3 or spec.accept is None or spec.accept(values):
                found[name] = header
                break
        if name not in found and spec.prefer_longest_text:
            texts = [h for h in table.headers if h not in taken
                     and mostly_text([r.values.get(h, "") for r in sample])]
            if texts:
                found[name] = max(texts, key=lambda h: sum(len(r.values.get(h, "")) for r in sample))
    return ColumnMap(found)


def require(cols: ColumnMap, names: Iterable[str], table: Table, src: SourceFile, kind: str) -> None:
    names = list(names)
    if not any(n in cols for n in names):
        wanted = " or ".join(f"'{n}'" for n in names)
        raise InputError(
            f"no {wanted} column found for a {kind} file", path=src.display,
            hint=f"The columns are: {', '.join(table.headers)}. Name the right one with "
                 f"--map {names[0]}=COLUMN, or give --kind if this is not a {kind} file")


# --- values --------------------------------------------------------------------------------

def parse_score(value: str, row: Row, header: str, src: SourceFile, low: float, high: float,
                where: str = "line") -> float | None:
    if not value:
        return None
    try:
        score = float(value.replace(",", "."))
    except ValueError:
        raise InputError(f"score '{value}' is not a number", path=src.display,
                         line=row.line, column=header,
                         hint=f"Scores must be numbers from {low:g} to {high:g}") from None
    if not low <= score <= high:
        raise InputError(f"score {value} is outside {low:g}-{high:g}", path=src.display,
                         line=row.line, column=header,
                         hint="Correct the value, or map the right column with --map score=COLUMN")
    return score


def day_first(values: list[str]) -> bool:
    """True when the dates in a column are written day/month (some first number > 12)."""
    for v in values:
        m = re.match(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}", v)
        if m and int(m.group(1)) > 12:
            return True
    return False


UNLIKE_DEFAULTS = (datetime(1904, 1, 1), datetime(1905, 2, 2))
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")


@lru_cache(maxsize=4096)
def to_iso_date(value: str, dayfirst: bool = False) -> str:
    """ISO date of a date as exports write it; raises ValueError if it is none."""
    m = ISO_DATE.match(value)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    try:
        # Parsed against two different defaults: a value that names its year, month and day
        # gives one date; "Mon", "3pm" or "-1" borrow parts of the default and give two.
        one, two = (dateparser.parse(value, dayfirst=dayfirst, default=d).date() for d in UNLIKE_DEFAULTS)
    except OverflowError as exc:
        raise ValueError(value) from exc
    if one != two:
        raise ValueError(value)
    return one.isoformat()


def parse_date(value: str, row: Row, header: str, src: SourceFile, dayfirst: bool) -> str | None:
    if not value:
        return None
    try:
        return to_iso_date(value, dayfirst)
    except ValueError:
        raise InputError(f"'{value}' is not a date", path=src.display, line=row.line,
                         column=header, hint="Use dates like 2026-03-14, or map another "
                                             "column with --map date=COLUMN") from None
