"""The normalized record every connector produces, whatever the source kind."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, Field

# What redaction leaves in place of personal data: a tag like [email], or a pseudonym like
# Customer-3F9A0B. Never a theme, a touchpoint or evidence.
PSEUDONYM_PREFIXES = ("Customer", "Staff", "Speaker", "Respondent", "Person", "Participant")
QUESTION_FIELD = "question"  # a survey answer's field: the question its column asked
PLACEHOLDER = re.compile(r"\[(?:email|phone|card|secret)\]|\b(?:" + "|".join(PSEUDONYM_PREFIXES) + r")-[0-9A-F]{6}\b")

Kind = Literal["interview", "nps", "support", "sales", "feedback"]
Role = Literal["customer", "company", "unknown"]


class Turn(BaseModel):
    """One speaker turn; `start`/`end` index the utterance inside `Record.text`."""

    speaker: str
    role: Role = "unknown"
    text: str
    start: int = 0
    end: int = 0
    time: float | None = None  # seconds from the start of the recording, when known


class Record(BaseModel):
    """One source item: a survey response, a ticket, a deal's notes, a whole interview."""

    record_id: str
    kind: Kind
    source: str
    locator: str = ""  # where in the source: "line 14", "row 7", "sheet Q2, row 3"
    respondent: str | None = None
    account: str | None = None
    date: str | None = None  # ISO 8601 date
    segment: str | None = None
    score: float | None = None  # 0-10 for NPS; the source's own scale elsewhere (see fields)
    text: str = ""
    turns: list[Turn] = Field(default_factory=list)
    fields: dict[str, str] = Field(default_factory=dict)  # other columns, kept for personas

    def content_hash(self) -> str:
        """Changes whenever anything stored about the record changes."""
        return content_hash(self.model_dump_json())

    @classmethod
    def stored(cls, data: str | bytes) -> Record:
        """A record read back from its stored JSON (which names every field), sharing one set
        of its field names with every other: pydantic keeps a set per instance, some 700 of a
        record's 1,600 bytes, and a run holds every record of the corpus. A survey answer's
        empty turns and fields are shared too, as a model's shallow copy shares them: records
        read back are never changed in place (a change is a `model_copy`)."""
        record = cls.model_validate_json(data)
        if len(record.__pydantic_fields_set__) == len(_RECORD_FIELDS):
            object.__setattr__(record, "__pydantic_fields_set__", _RECORD_FIELDS)
        if not record.turns:
            object.__setattr__(record, "turns", _NO_TURNS)
        if not record.fields:
            object.__setattr__(record, "fields", _NO_FIELDS)
        return record


_RECORD_FIELDS = set(Record.model_fields)  # every field: setting one later adds nothing to it
_NO_TURNS: list[Turn] = []
_NO_FIELDS: dict[str, str] = {}


def is_renewal(record: Record) -> bool:
    """A sales record about a renewal rather than a first purchase."""
    return any("renew" in v.lower() for v in (*record.fields.values(), record.account or ""))


def content_hash(record_json: str) -> str:
    return hashlib.sha256(record_json.encode()).hexdigest()[:20]


def assemble_turns(turns: list[Turn], preamble: str = "") -> tuple[str, list[Turn]]:
    """Join turns into one text as `Speaker: utterance` paragraphs, with offsets.

    Quotes are later checked against `Record.text`, so the offsets must point at exactly
    the utterance and nothing else.
    """
    parts: list[str] = [preamble] if preamble else []
    pos = len(preamble) + (2 if preamble else 0)
    placed: list[Turn] = []
    for turn in turns:
        label = f"{turn.speaker}: "
        start = pos + len(label)
        end = start + len(turn.text)
        placed.append(turn.model_copy(update={"start": start, "end": end}))
        parts.append(label + turn.text)
        pos = end + 2
    return "\n\n".join(parts), placed
