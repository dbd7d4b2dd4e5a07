"""Mentions, offline: clauses assigned to a touchpoint catalogue by cue words and meaning,
judged by CX cues; the catalogue is the library plus what the data keeps naming (see
`discover`), or the user's codebook first."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from valuestory.records import PLACEHOLDER, Record

from ..artefacts import EmergingTheme, Mention, Mentions, TouchpointDef
from ..contract import Corpus
from ..text import SEGMENT, WORDS, Clause, asked, clauses
from .calibration import probability, recalibrated, refit
from .codebook import CodebookCatalogue
from .cues import NEUTRAL, answer, judge, polarity, score_given
from .discover import discover
from .learned import Lessons, Teacher, lessons, taught_codes
from .library import LIBRARY
from .themes import themes

OFFLINE_ENGINE = "offline-v1"  # how offline mentions are labelled in exports
# Weight of a clause's passage (its turn, else its record) beside the clause itself when
# coding it; chosen on BANKING77 and the dev splits: 0.5 raised BANKING77 0.766 -> 0.781 and
# codebook F1 on Oakhaven dev 0.447 -> 0.463 and the sample's dev 0.604 -> 0.618; a window of
# neighbouring clauses instead blurred MAMS's two aspects per sentence (F1 0.59 -> 0.55).
CONTEXT = 0.5
LIBRARY_KIND = "library"  # the library's confidences' curve (`calibration.PLATT`)
# A reply this short is read with the question it answers. Longer answers name their own
# topic: mixing the question's meaning into every answer (weights 0.3 and 0.6 of its vector)
# moved no dev figure beyond its run-to-run noise of about 0.005.
SHORT_REPLY = 6  # words
TOPICAL = 0.5  # a question lends its topic when coded this confidently itself


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

    def local_sentiment(self, text: str, j: int, hits: int) -> float | None:
        """The judgement of the part of a clause that names touchpoint j, when it names two."""
        return _local_sentiment(text, self.patterns[j]) if hits > 1 else None

    def assign_all(self, texts: list[str], sims: np.ndarray) -> list[list[tuple[int, float]]]:
        return [self.assign(text, row) for text, row in zip(texts, sims, strict=True)]

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
        return [(j, probability(min(1.0, c), LIBRARY_KIND)) for j, c in scored[:2]]


def offline_mentions(records: list[Record], catalogue: Catalogue, batch: int = 4096,
                     teacher: Teacher | None = None) -> list[Mention]:
    """Mentions for every clause that is about a touchpoint; quotes are the clauses
    themselves, so they are verbatim by construction. Read in batches of about `batch`
    clauses that never split a record, so what a clause's neighbours say is at hand and
    memory holds one batch's clauses and vectors, not the corpus's. With a `teacher`, the
    researcher's corrections take codes away and set polarities (see `learned`)."""
    return [m for part in mention_batches(records, catalogue, batch, teacher) for m in part]


def mention_batches(records: list[Record], catalogue: Catalogue, batch: int = 4096,
                    teacher: Teacher | None = None) -> Iterator[list[Mention]]:
    """The mentions of `offline_mentions`, a batch of records at a time."""
    shared: dict[float, float] = {}  # sentiments and confidences are rounded: one float object per value
    for part in _record_batches(records, batch):
        yield _batch_mentions(part, catalogue, shared, teacher)


def _record_batches(records: list[Record], size: int) -> Iterator[list[tuple[Record, list[Clause]]]]:
    """Records with their clauses, in batches of about `size` clauses."""
    part: list[tuple[Record, list[Clause]]] = []
    n = 0
    for r in records:
        if n >= size:
            yield part
            part, n = [], 0
        own = clauses(r)
        part.append((r, own))
        n += len(own)
    if part:
        yield part


def _batch_mentions(part: list[tuple[Record, list[Clause]]], catalogue: Catalogue,
                    shared: dict[float, float], teacher: Teacher | None = None) -> list[Mention]:
    by_id = {r.record_id: r for r, _ in part}
    all_clauses = [c for _, own in part for c in own]
    if not all_clauses:
        return []
    judged = [judge(c.text) for c in all_clauses]
    questions = [_short_answer_to(c, by_id[c.record_id]) for c in all_clauses]
    topical = topical_questions(questions, catalogue)
    # a short reply is read with the question it answers; its quote stays its own words
    read = [f"{q} {c.text}" if q in topical else c.text for c, q in zip(all_clauses, questions, strict=True)]
    alone = catalogue.embed(read)
    vectors = in_context(alone, [_passage(c, by_id[c.record_id]) for c in all_clauses])
    hits_of = catalogue.assign_all(read, catalogue.similarities(vectors))
    if teacher is not None:
        give = not isinstance(catalogue, CodebookCatalogue)
        hits_of = [teacher.corrected(hits, alone[i], catalogue, give, (c.record_id, c.text))
                   for i, (c, hits) in enumerate(zip(all_clauses, hits_of, strict=True))]
    mentions = []
    for i, (clause, hits) in enumerate(zip(all_clauses, hits_of, strict=True)):
        if not hits:
            continue
        record = by_id[clause.record_id]
        sentiment, did_job = judged[i]
        if abs(sentiment) < NEUTRAL and questions[i] and (said := answer(clause.text, questions[i])) is not None:
            sentiment = said
        elif abs(sentiment) < NEUTRAL and (q := asked(record, clause.start)) and \
                (scored := score_given(clause.text, q)) is not None:
            sentiment = scored
        elif abs(sentiment) < NEUTRAL:
            sentiment = _from_context(i, all_clauses, judged, hits_of, record)
        for j, confidence in hits:
            t = catalogue.touchpoints[j]
            local = catalogue.local_sentiment(clause.text, j, len(hits))
            value = local if local is not None else sentiment
            if teacher is not None:
                value = teacher.sentiment(t.name, value)
            mentions.append(Mention.trusted(
                record_id=clause.record_id, kind=clause.kind, touchpoint=t.name,
                channel=_channel(t, record.fields.get("channel", "")), quote=clause.text,
                start=clause.start, end=clause.end, sentiment=_one(shared, value), polarity=polarity(value),
                did_job=did_job, confidence=_one(shared, confidence)))
    return mentions


def _one(shared: dict[float, float], value: float) -> float:
    """The one float object kept for this value (0.0 and -0.0, equal as keys, kept apart)."""
    return shared.setdefault(value, value) if value else value


def _passage(clause: Clause, record: Record) -> tuple[str, int]:
    """Which passage a clause is read in: its turn of a conversation, else its record."""
    for t, turn in enumerate(record.turns):
        if turn.start <= clause.start < turn.end:
            return clause.record_id, t
    return clause.record_id, -1


def in_context(vectors: np.ndarray, passages: list, weight: float | None = None) -> np.ndarray:
    """Each clause's meaning read with its passage's: a short answer's second sentence ("My
    card hasn't come. How long does it take?") is about what the first says. The clause's own
    vector plus `weight` times the passage's mean, renormalised."""
    weight = CONTEXT if weight is None else weight
    if not weight or not len(vectors):
        return vectors
    groups: dict = {}
    for k, key in enumerate(passages):
        groups.setdefault(key, []).append(k)
    mixed = vectors.copy()
    for rows in groups.values():
        if len(rows) > 1:
            mean = vectors[rows].mean(axis=0)
            mixed[rows] = vectors[rows] + weight * mean / max(float(np.linalg.norm(mean)), 1e-9)
    return mixed / np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-9)


def _short_answer_to(clause: Clause, record: Record) -> str | None:
    """The question a clause's short reply answers ("Yes, definitely.", "That's clunkier."):
    a reply of at most SHORT_REPLY words, in a turn (or answer) that answers one."""
    turn = next(((t.start, t.end) for t in record.turns if t.start <= clause.start < t.end), (0, len(record.text)))
    if len(WORDS.findall(record.text[turn[0]:turn[1]])) > SHORT_REPLY:
        return None
    return asked(record, clause.start)


def topical_questions(questions: list[str | None], catalogue) -> set[str]:
    """The questions that name a touchpoint themselves ("And booking the deliveries?"), coded
    at least TOPICAL confidently: "What is the main reason for your score?" lends no topic."""
    distinct = sorted({q for q in questions if q})
    if not distinct:
        return set()
    hits = catalogue.assign_all(distinct, catalogue.similarities(catalogue.embed(distinct)))
    return {q for q, h in zip(distinct, hits, strict=True) if h and h[0][1] >= TOPICAL}


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


def build(records: list[Record], embed, codebook: list[TouchpointDef] | None = None,
          taught: Lessons | None = None) -> tuple[list[TouchpointDef], list[Mention], str]:
    """The catalogue, the mentions assigned to it, with what the researcher's corrections
    taught (`learned`), and the kind of coding whose curve their confidences are on
    (`calibration`)."""
    taught = taught or Lessons()
    embed = _unnamed(embed)
    teacher = Teacher(taught, embed) if taught else None
    if codebook:
        codes = taught_codes(codebook, taught)
        by_codes = CodebookCatalogue(codes, embed)
        return codes, offline_mentions(records, by_codes, teacher=teacher), by_codes.kind
    library = taught_codes(list(LIBRARY), taught, examples=False)
    catalogue = Catalogue(library, embed)
    # The library's reading only says which clauses it covers: its mentions are not kept while
    # discovery reads the rest (at a million responses, two million of them held 600 MiB).
    covered = {(m.record_id, m.start, m.end) for part in mention_batches(records, catalogue) for m in part}
    found = discover(records, covered, library)
    del covered
    if found:
        catalogue = Catalogue(library + found, embed)
    mentions = offline_mentions(records, catalogue, teacher=teacher)
    return _used(library + found, mentions), mentions, LIBRARY_KIND


def _unnamed(embed):
    """The embedding as the coding reads it: a pseudonym or a redaction tag says nothing about
    a touchpoint ('Onboarding call booked with Person-3F2A1B'), so it is read as a space."""
    return lambda texts: embed([PLACEHOLDER.sub(" ", t) for t in texts])


def _used(defs: list[TouchpointDef], mentions: list[Mention]) -> list[TouchpointDef]:
    names = {m.touchpoint for m in mentions}
    return [t for t in defs if t.name in names]


def code(corpus: Corpus) -> Mentions:
    """Stage 1 offline: every clause about a touchpoint; the catalogue is settled with them."""
    records = list(corpus.records)
    taught = lessons(corpus.recodes)
    touchpoints, mentions, scale = build(records, corpus.embed, list(corpus.codebook) if corpus.codebook else None,
                                         taught)
    # verdicts on confidences of another kind (a codebook that has since gained examples) are
    # on another curve: only those of this run's kind refit it
    fit = refit([(c, ok) for c, ok, kind in taught.verdicts.values() if kind == scale])
    for m in mentions:  # what made it: the cue engine, over this embedding model
        m.model, m.prompt_version = corpus.embedding, OFFLINE_ENGINE
        if fit:  # the confidences on the curve of the researcher's own verdicts
            m.confidence = recalibrated(m.confidence, fit)
    emerging = uncovered(records, mentions, corpus.embed) if corpus.codebook else []
    return Mentions(mentions=mentions, touchpoints=touchpoints, emerging=emerging, learned=taught.counts(),
                    scale=scale, calibration=[*fit, len(taught.verdicts)] if fit else [])


def uncovered(records: list[Record], coded: list[Mention], embed) -> list[EmergingTheme]:
    """Recurring themes, found by meaning, among the clauses a codebook left uncoded."""
    taken = {(m.record_id, m.start, m.end) for m in coded}
    return themes(records, [c for r in records for c in clauses(r) if (c.record_id, c.start, c.end) not in taken],
                  embed)
