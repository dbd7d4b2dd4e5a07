"""Speaker turns from plain-text transcripts: `Name: text`, `[00:01] Name: text`,
`**Name:** text`, and the `Name  0:03` header lines of Otter-style exports."""

from __future__ import annotations

import re
from collections import Counter

from valuestory.records import Turn

TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
NAME = r"[^\W\d_][\w.'’&-]*(?: [\w.'’&()-]+){0,3}?"
LABELLED = re.compile(
    rf"^\s*(?:[-*>]\s+)?(?:\[(?P<ts1>{TS})\]\s*|(?P<ts0>{TS})\s+)?(?:\*\*|__)?(?P<name>{NAME})"
    rf"(?:\s*[(\[](?P<ts2>{TS})[)\]])?(?:\*\*|__)?\s*:(?:\*\*|__)?(?:\s+(?P<text>.*))?$")
HEADER = re.compile(rf"^\s*(?P<name>{NAME})\s{{2,}}(?P<ts>{TS})\s*$")

META_KEYS = {
    "date", "participant", "respondent", "interviewee", "interviewer", "moderator",
    "researcher", "segment", "persona", "plan", "tier", "company", "account", "organization",
    "organisation", "business", "role", "title", "job title", "location", "region", "duration",
    "industry", "team size", "size", "recorded", "session", "study", "project", "topic",
    "customer since", "customer type",
}


def seconds(ts: str | None) -> float | None:
    if not ts:
        return None
    parts = [float(p.replace(",", ".")) for p in ts.split(":")]
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total


def _match(line: str) -> tuple[str, str, float | None, bool] | None:
    """(speaker, text, time, sure): `sure` when a timestamp or bold marks it a label."""
    m = LABELLED.match(line)
    if m and (m.group("text") or "").strip() and not m.group("name").lower().startswith("http"):
        ts = m.group("ts1") or m.group("ts0") or m.group("ts2")
        return m.group("name").strip(), m.group("text").strip(), seconds(ts), bool(ts) or "**" in line
    m = HEADER.match(line)
    if m:
        return m.group("name").strip(), "", seconds(m.group("ts")), True
    return None


def label_of_line(line: str) -> tuple[str, str] | None:
    """(speaker, text) of a `Name: text` line, else None."""
    m = _match(line)
    return (m[0], m[1]) if m and m[1] else None


def parse_turn_lines(lines: list[str], meta: dict[str, str] | None = None,
                     prelude: list[str] | None = None) -> list[Turn]:
    """Turns from lines of text. A label seen only once among speakers who speak often is
    read as part of the text ("Pricing: it was confusing"), not as a new speaker. Key-value
    lines before the first turn go to `meta`; other text there to `prelude`."""
    matches = [_match(line) for line in lines]
    counts = Counter(m[0] for m in matches if m)
    frequent = {n for n, c in counts.items() if c >= 2}
    speakers = (frequent or set(counts)) | {m[0] for m in matches if m and m[3]}
    turns: list[Turn] = []
    for line, m in zip(lines, matches, strict=False):
        is_meta = (m is not None and not turns and meta is not None and not m[3]
                   and m[0].lower() in META_KEYS and m[0] not in frequent and _value_like(m[1]))
        if m and m[0] in speakers and not is_meta:
            name, text, time, _ = m
            turns.append(Turn(speaker=name, text=text, time=time))
        elif turns:
            if line.strip():
                last = turns[-1]
                turns[-1] = last.model_copy(update={"text": f"{last.text} {line.strip()}".strip()})
        elif is_meta:
            meta[m[0].lower()] = m[1]
        elif line.strip() and prelude is not None:
            prelude.append(line.strip().lstrip("#").strip())
    return merge_consecutive([t for t in turns if t.text])


def _value_like(text: str) -> bool:
    """'Interviewer: Sam Lee' is metadata; 'Interviewer: How did it start?' is a turn."""
    return len(text.split()) <= 6 and not text.rstrip().endswith(("?", "!"))


def merge_consecutive(turns: list[Turn]) -> list[Turn]:
    """One turn per stretch of one speaker (captions split a sentence over several cues)."""
    merged: list[Turn] = []
    for t in turns:
        if merged and merged[-1].speaker == t.speaker:
            last = merged[-1]
            merged[-1] = last.model_copy(update={"text": f"{last.text} {t.text}".strip()})
        else:
            merged.append(t)
    return merged
