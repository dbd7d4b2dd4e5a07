"""Stage 1, mentions: what each piece of customer text says about which touchpoint.

A mention is a touchpoint, its channel, a verbatim quote (a span of the record), sentiment
in [-1, 1] with its polarity, whether the touchpoint did its job, and a confidence. Two
engines fill it: the offline engine here (clauses, a touchpoint catalogue, CX cues,
embeddings), and a model through the runner (see `llm_mentions`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from valuestory.records import Record

from .cues import judge, polarity
from .library import TouchpointDef

Polarity = Literal["negative", "neutral", "positive"]
OFFLINE_ENGINE = "offline-v1"


class Mention(BaseModel):
    record_id: str
    kind: str
    touchpoint: str
    channel: str | None = None
    quote: str
    start: int
    end: int
    sentiment: float = Field(ge=-1, le=1)
    polarity: Polarity
    did_job: bool | None = None
    confidence: float = Field(ge=0, le=1)
    chunk_id: str | None = None
    engine: str = OFFLINE_ENGINE
    model: str = ""
    prompt_version: str = ""


@dataclass(frozen=True)
class Clause:
    record_id: str
    kind: str
    start: int
    end: int
    text: str


SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|(?=\n)|$)")
# Where one sentence turns to another judgement: "the demo was great but the contract took
# six weeks" holds two touchpoints with opposite polarity.
CONTRAST = re.compile(r"(?:,|;|\s)\s*(?:but|however|although|though|whereas|while|yet|except that|"
                      r"apart from that|other than that)\b\s*|;\s*|\s+-\s+", re.I)
LEADING = re.compile(r"^(?:and|so|also|plus|then|but|honestly|well|oh|yeah|yes|no|ok|okay|anyway)\b[\s,]*", re.I)


def customer_spans(record: Record) -> list[tuple[int, int]]:
    """The parts of a record in the customer's own words (or, for sales notes, about them):
    customer turns of conversations, a ticket's subject, or the whole text."""
    if not record.turns:
        return [(0, len(record.text))] if record.text.strip() else []
    spans = [(t.start, t.end) for t in record.turns if t.role != "company"]
    first_label = record.text.rfind("\n", 0, record.turns[0].start) + 1
    if record.kind == "support" and first_label > 0 and record.text[:first_label].strip():
        spans.insert(0, (0, len(record.text[:first_label].rstrip())))
    return spans


def clauses(record: Record) -> list[Clause]:
    out = []
    text = record.text
    for lo, hi in customer_spans(record):
        for sentence in SENTENCE.finditer(text, lo, hi):
            s_start = sentence.start()
            pieces, last = [], s_start
            for cut in CONTRAST.finditer(text, s_start, sentence.end()):
                pieces.append((last, cut.start()))
                last = cut.end()
            pieces.append((last, sentence.end()))
            for a, b in pieces:
                piece = text[a:b]
                stripped = piece.lstrip(" ,;:-\t")
                lead = LEADING.match(stripped)
                a += len(piece) - len(stripped) + (lead.end() if lead else 0)
                piece = text[a:b].rstrip(" ,;:-")
                if len(re.findall(r"\w+", piece)) >= 2:
                    out.append(Clause(record.record_id, record.kind, a, a + len(piece), piece))
    return out


class Catalogue:
    """Touchpoints the offline engine assigns clauses to: cue words first, then meaning."""

    def __init__(self, touchpoints: list[TouchpointDef], embed, min_similarity: float = 0.45) -> None:
        self.touchpoints = touchpoints
        self.embed = embed
        self.min_similarity = min_similarity
        self.patterns = [re.compile(r"(?<![\w-])(?:" + "|".join(t.cues) + r")", re.I) if t.cues else None
                         for t in touchpoints]
        # Each touchpoint's prototypes: its name with its description, and each example.
        texts, owners = [], []
        for i, t in enumerate(touchpoints):
            for text in (f"{t.name}: {t.description}", *t.examples):
                texts.append(text)
                owners.append(i)
        self.owners = np.array(owners)
        self.prototypes = embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """Per clause and touchpoint, the best similarity to any of its prototypes."""
        sims = vectors @ self.prototypes.T
        best = np.full((len(vectors), len(self.touchpoints)), -1.0, dtype=np.float32)
        for j in range(len(self.touchpoints)):
            cols = self.owners == j
            if cols.any():
                best[:, j] = sims[:, cols].max(axis=1)
        return best

    def assign(self, clause: str, sims: np.ndarray) -> list[tuple[int, float]]:
        """(touchpoint index, confidence) for the touchpoints a clause is about, at most two."""
        scored = []
        for j, pattern in enumerate(self.patterns):
            cue = pattern is not None and pattern.search(clause) is not None
            sim = float(sims[j])
            if cue:
                scored.append((j, 0.55 + 0.45 * max(0.0, sim)))
            elif sim >= self.min_similarity:
                scored.append((j, 0.3 + 0.5 * sim))
        scored.sort(key=lambda js: -js[1])
        if len(scored) > 1 and scored[1][1] < 0.9 * scored[0][1]:
            scored = scored[:1]
        return [(j, round(min(1.0, c), 3)) for j, c in scored[:2]]


def offline_mentions(records: list[Record], catalogue: Catalogue, batch: int = 4096) -> list[Mention]:
    """Mentions for every clause that is about a touchpoint; quotes are the clauses
    themselves, so they are verbatim by construction."""
    all_clauses = [c for r in records for c in clauses(r)]
    channels = {r.record_id: r.fields.get("channel", "") for r in records}
    mentions = []
    for i in range(0, len(all_clauses), batch):
        part = all_clauses[i:i + batch]
        sims = catalogue.similarities(catalogue.embed([c.text for c in part]))
        for clause, row in zip(part, sims, strict=True):
            hits = catalogue.assign(clause.text, row)
            if not hits:
                continue
            sentiment, did_job = judge(clause.text)
            for j, confidence in hits:
                t = catalogue.touchpoints[j]
                mentions.append(Mention(
                    record_id=clause.record_id, kind=clause.kind, touchpoint=t.name,
                    channel=_channel(t, channels.get(clause.record_id, "")), quote=clause.text,
                    start=clause.start, end=clause.end, sentiment=sentiment, polarity=polarity(sentiment),
                    did_job=did_job, confidence=confidence))
    return mentions


def _channel(t: TouchpointDef, record_channel: str) -> str:
    """A support ticket says how it came in; otherwise the touchpoint's own channel."""
    c = record_channel.lower()
    if t.name == "Customer support" and c:
        return "chat" if "chat" in c else "phone" if ("phone" in c or "call" in c) else "email" if "mail" in c else t.channel
    return t.channel
