"""Support tickets and chat/call transcripts from help desks (CSV, XLSX or JSON exports)."""

from __future__ import annotations

import json
from collections import Counter

from valuestory.errors import InputError
from valuestory.records import Record, Turn, assemble_turns

from .base import Connector, ParseOptions, connectors, signal_fit
from .files import SourceFile
from .roles import role_of_label
from .rows import RowReader, common_specs
from .tabular import FieldSpec, Row, Table, mostly_text, norm, read_table, require
from .turns import label_of_line

SUBJECT = FieldSpec(exact=("subject", "title", "summary", "topic", "issue"), contains=("subject", "title"))
DESCRIPTION = FieldSpec(
    exact=("description", "body", "message", "text", "details", "problem", "issue description",
           "first message", "content", "question"),
    contains=("description", "body", "message", "detail"),
    avoid=("id", "date"),
    accept=mostly_text,
)
STATUS = FieldSpec(exact=("status", "state", "ticket status", "resolution"), contains=("status",))
PRIORITY = FieldSpec(exact=("priority", "urgency", "severity"), contains=("priority", "severity"))
THREAD = FieldSpec(
    exact=("comments", "thread", "conversation", "replies", "messages", "conversation parts",
           "transcript", "comment thread", "public comments"),
    contains=("comment", "thread", "conversation", "repl", "transcript"),
)
CHANNEL = FieldSpec(exact=("channel", "via", "source", "medium", "contact method"), contains=("channel",))
CSAT = FieldSpec(exact=("satisfaction", "csat", "satisfaction rating", "rating"),
                 contains=("satisfaction", "csat"))
SPECS = common_specs(subject=SUBJECT, text=DESCRIPTION, status=STATUS, priority=PRIORITY,
                     thread=THREAD, channel=CHANNEL, csat=CSAT)
SIGNALS = {"subject": SUBJECT, "status": STATUS, "priority": PRIORITY, "thread": THREAD}

COMMENT_TEXT = ("body", "plain_body", "text", "message", "content", "html_body", "value")
COMMENT_AUTHOR = ("author_name", "author", "from", "sender", "user", "name", "by")
COMMENT_ROLE = ("author_role", "role", "author_type", "from_type", "sender_type", "type")
LIST_KEYS = ("tickets", "data", "results", "items", "conversations", "records")


def fit(table: Table) -> float:
    return signal_fit(table, SIGNALS)


def _scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def read_json_tickets(src: SourceFile) -> Table:
    data = src.json
    if isinstance(data, dict):
        data = next((data[k] for k in LIST_KEYS if isinstance(data.get(k), list)), None)
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise InputError("expected a list of tickets (objects), or an object with a "
                         f"'{LIST_KEYS[0]}' list", path=src.display,
                         hint="Export tickets as JSON from your help desk, or as CSV")
    headers: list[str] = []
    for ticket in data:
        headers += [k for k in ticket if k not in headers]
    rows = [Row(i, {h: _scalar(t.get(h)) for h in headers}) for i, t in enumerate(data, start=1)]
    return Table(headers, rows, where="ticket")


def _pick(obj: dict, keys: tuple[str, ...]) -> object:
    for key in keys:
        for k, v in obj.items():
            if norm(k).replace(" ", "_") == key and v not in (None, ""):
                return v
    return None


def _comment_turn(comment: object, requester: str) -> Turn | None:
    if isinstance(comment, str):
        return Turn(speaker="Reply", text=comment.strip()) if comment.strip() else None
    if not isinstance(comment, dict):
        return None
    text = _pick(comment, COMMENT_TEXT)
    if not isinstance(text, str) or not text.strip():
        return None
    author = _pick(comment, COMMENT_AUTHOR)
    role_hint = _pick(comment, COMMENT_ROLE)
    if isinstance(author, dict):
        role_hint = role_hint or _pick(author, ("type", "role"))
        author = _pick(author, ("name", "email", "id"))
    speaker = str(author).strip() if author else ""
    role = role_of_label(str(role_hint or ""))
    if role == "unknown":
        role = "customer" if speaker and speaker == requester else role_of_label(speaker)
    label = speaker or {"company": "Agent", "customer": "Customer"}.get(role, "Reply")
    return Turn(speaker=label, role=role, text=text.strip())


def thread_turns(value: str, requester: str) -> list[Turn]:
    """Comments as a JSON list, or as text where each comment starts with its author's label
    (`Agent (Sam): ...`, `Dana: ...`). One turn per comment, however many in a row are by one
    author; lines without a label belong to the comment above, and text before the first
    label is a comment of its own (by an unknown author), never dropped."""
    if not value:
        return []
    if value.lstrip().startswith("["):
        try:
            items = json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            items = None
        if isinstance(items, list):
            turns = [t for t in (_comment_turn(c, requester) for c in items) if t]
            if turns or not any(items):
                return turns
    lines = value.split("\n")
    labels = [label_of_line(line) for line in lines]
    counts = Counter(m[0] for m in labels if m)
    comments: list[list[str]] = []  # [speaker, text lines...]
    for line, m in zip(lines, labels, strict=True):
        if m and _is_author(m[0], requester, counts):
            comments.append([m[0], m[1]])
        elif comments:
            comments[-1].append(line.strip())
        elif line.strip():
            comments.append(["Reply", line.strip()])
    turns = []
    for speaker, *text in comments:
        words = " ".join(t for t in text if t)
        if words:
            role = "customer" if speaker == requester else role_of_label(speaker)
            turns.append(Turn(speaker=speaker, role=role, text=words))
    return turns


def _is_author(label: str, requester: str, counts: Counter) -> bool:
    """A label starts a comment when it names a role (`Agent (Sam)`), the requester, or
    someone who writes more than once; a one-off `Pricing:` inside a comment is its text."""
    return role_of_label(label) != "unknown" or label == requester or counts[label] >= 2 or len(counts) == 1


def parse(src: SourceFile, options: ParseOptions) -> list[Record]:
    table = read_json_tickets(src) if src.suffix == ".json" else read_table(src)
    rows = RowReader(src, "support", SPECS, options.mapping, table)
    require(rows.cols, ["text", "subject"], table, src, "support")
    records = []
    for row in table.rows:
        common = rows.common(row)
        requester = common["respondent"] or ""
        description = rows.get(row, "text")
        turns = [Turn(speaker=requester or "Customer", role="customer", text=description)] if description else []
        turns += thread_turns(rows.get(row, "thread"), requester)
        common["fields"].update({k: v for k in ("status", "priority", "channel", "csat")
                                 if (v := rows.get(row, k))})
        subject = rows.get(row, "subject")
        preamble = f"Subject: {subject}" if subject else ""
        text, turns = assemble_turns(turns, preamble)
        records.append(Record(**common, text=text, turns=turns))
    return records


connectors.register("support")(Connector(
    kind="support", describe="help-desk tickets: subject, description, status, priority, comments",
    parse=parse, fit=fit, folder_words=("support", "tickets", "helpdesk", "zendesk", "cases"),
))
