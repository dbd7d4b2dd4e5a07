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


def clauses(record: Record, min_words: int = 2) -> list[Clause]:
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
                if len(re.findall(r"\w+", piece)) >= min_words:
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
    by_id = {r.record_id: r for r in records}
    channels = {r.record_id: r.fields.get("channel", "") for r in records}
    judged = [judge(c.text) for c in all_clauses]
    hits_of: list[list[tuple[int, float]]] = []
    for i in range(0, len(all_clauses), batch):
        part = all_clauses[i:i + batch]
        sims = catalogue.similarities(catalogue.embed([c.text for c in part]))
        hits_of += [catalogue.assign(clause.text, row) for clause, row in zip(part, sims, strict=True)]
    mentions = []
    for i, (clause, hits) in enumerate(zip(all_clauses, hits_of, strict=True)):
        if not hits:
            continue
        sentiment, did_job = judged[i]
        if abs(sentiment) < NEUTRAL:
            sentiment = _from_context(i, all_clauses, judged, hits_of, by_id[clause.record_id])
        for j, confidence in hits:
            t = catalogue.touchpoints[j]
            own = _local_sentiment(clause.text, catalogue.patterns[j]) if len(hits) > 1 else None
            value = own if own is not None else sentiment
            mentions.append(Mention(
                record_id=clause.record_id, kind=clause.kind, touchpoint=t.name,
                channel=_channel(t, channels.get(clause.record_id, "")), quote=clause.text,
                start=clause.start, end=clause.end, sentiment=value, polarity=polarity(value),
                did_job=did_job, confidence=confidence))
    return mentions


NEUTRAL = 0.15  # below this a clause's own words carry no judgement
SEGMENT = re.compile(r"[,;:]|\s(?:and|but|while|whereas)\s", re.I)


def _local_sentiment(text: str, pattern: re.Pattern | None) -> float | None:
    """Sentiment of the part of a clause that names the touchpoint, when a clause judges two
    ("quoting is great, invoicing is clunky"); None when that part says nothing either way."""
    m = pattern.search(text) if pattern is not None else None
    if m is None:
        return None
    cuts = [0] + [c.end() for c in SEGMENT.finditer(text)] + [len(text) + 1]
    lo = max(c for c in cuts if c <= m.start())
    hi = min((c.start() for c in SEGMENT.finditer(text) if c.start() >= m.end()), default=len(text))
    value, _ = judge(text[lo:hi])
    return value if abs(value) >= NEUTRAL else None


def _from_context(i: int, all_clauses: list[Clause], judged: list, hits_of: list, record: Record) -> float:
    """A clause that names a touchpoint without judging it takes the judgement of a
    neighbouring sentence in the same turn that judges nothing else ("Excellent. The
    specialist set up our price book"), else leans the way the customer's own rating does."""
    clause = all_clauses[i]
    best = 0.0
    for k in (i - 1, i + 1):
        if 0 <= k < len(all_clauses) and all_clauses[k].record_id == clause.record_id and not hits_of[k]:
            a, b = sorted((all_clauses[k], clause), key=lambda c: c.start)
            if "\n" not in record.text[a.end:b.start] and abs(judged[k][0]) > abs(best):
                best = judged[k][0]
    if abs(best) >= 0.3:
        return round(0.8 * best, 3)
    return round(0.4 * lean, 3) if abs(lean := rating_lean(record)) >= 0.5 else judged[i][0]


def rating_lean(record: Record) -> float:
    """Which way the customer's own rating leans, in [-1, 1]: 0-10 scores around 7 (NPS
    passives) are neutral, 1-5 ratings around 3. A support ticket without a rating leans
    negative: people write to support because something is wrong."""
    if record.score is None:
        return -0.6 if record.kind == "support" else 0.0
    if record.fields.get("score_scale") == "1-5":
        return max(-1.0, min(1.0, (record.score - 3) / 2))
    return max(-1.0, min(1.0, (record.score - 7) / 3))


def _channel(t: TouchpointDef, record_channel: str) -> str:
    """A support ticket says how it came in; otherwise the touchpoint's own channel."""
    c = record_channel.lower()
    if t.name == "Customer support" and c:
        return "chat" if "chat" in c else "phone" if ("phone" in c or "call" in c) else "email" if "mail" in c else t.channel
    return t.channel
