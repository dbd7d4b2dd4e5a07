"""Text pieces every stage shares: whose words a record holds, its sentences and clauses, the
passage around the sentence that best answers a question, and grouping by meaning.

One implementation of each, so that a quote, a clause and a passage cut from the same record
always agree on where a sentence ends.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from valuestory.records import PLACEHOLDER, QUESTION_FIELD, Record

from .artefacts import CitedSpan

SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|(?=\n)|$)")
# Where one sentence turns to another judgement: "the demo was great but the contract took
# six weeks" holds two touchpoints with opposite polarity.
CONTRAST = re.compile(r"(?:,|;|\s)\s*(?:but|however|although|though|whereas|while|yet|except that|"
                      r"apart from that|other than that)\b\s*|;\s*|\s+-\s+", re.I)
LEADING = re.compile(r"^(?:and|so|also|plus|then|but|honestly|well|oh|yeah|yes|no|ok|okay|anyway)\b[\s,]*", re.I)
WORDS = re.compile(r"\w+")
# A bare yes or no says what the question said, or its opposite: "Yes, definitely." to "Would
# you recommend us?" is praise, "Not really." to "Was it easy to set up?" a complaint.
AFFIRM = re.compile(r"^\W*(?:yes|yeah|yep|yup|definitely|absolutely|totally|certainly|of course|sure|"
                    r"exactly|very much|for sure|indeed)\b", re.I)
DENY = re.compile(r"^\W*(?:no|nope|nah|not really|not at all|never|hardly|not much|not yet)\b", re.I)
# Within a clause, where one thing judged turns to another: "the food so-so, the service good".
SEGMENT = re.compile(r"[,;:]|\s(?:and|but|while|whereas)\s", re.I)


@dataclass(frozen=True, slots=True)
class Clause:
    record_id: str
    kind: str
    start: int
    end: int
    text: str

    @property
    def span(self) -> CitedSpan:
        return CitedSpan(record_id=self.record_id, start=self.start, end=self.end, text=self.text)


# Kinds whose text is written about the customer (a sales rep's CRM notes), not by them: their
# words are evidence of what happened, never shown as the customer's own.
NOTE_KINDS = frozenset({"sales"})
# A line addressed to an AI ("ignore all previous instructions…") is a probe or an attack, not
# a customer's experience: never evidence of a decision or a story.
NOT_EVIDENCE = re.compile(r"\b(?:ignore (?:all |any )?(?:the )?(?:previous|prior|above) (?:instructions|prompts?)|"
                          r"system prompt|you are an? (?:ai|assistant|language model))\b", re.I)


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


def sentences(text: str, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence of text[lo:hi] that holds anything but whitespace,
    without the whitespace around it."""
    out = []
    for m in SENTENCE.finditer(text, lo, len(text) if hi is None else hi):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            out.append((s, e))
    return out


def asked(record: Record, at: int) -> str | None:
    """The question the customer's words at `at` answer: the last sentence of the company turn
    just before their turn ("And booking the deliveries?"), or a survey answer's column
    question; None when nothing was asked."""
    if not record.turns:
        return record.fields.get(QUESTION_FIELD) or None
    for t, turn in enumerate(record.turns):
        if turn.start <= at < turn.end:
            before = record.turns[t - 1] if t else None
            if before is None or before.role != "company" or turn.role == "company":
                return None
            said = sentences(record.text, before.start, before.end)
            return record.text[said[-1][0]:said[-1][1]] if said else None
    return None


def clauses(record: Record, min_words: int = 2) -> list[Clause]:
    """The customer's sentences, cut where they turn from one judgement to another. A bare yes
    or no too short to hold a clause ("Yes, definitely.") is one whole when it answers a
    question: it says something about what was asked ("Thanks." says nothing about it)."""
    out = []
    text = record.text
    for lo, hi in customer_spans(record):
        before = len(out)
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
                # a pseudonym or a redaction tag is nobody's judgement of anything
                if len(WORDS.findall(PLACEHOLDER.sub(" ", piece))) >= min_words:
                    out.append(Clause(record.record_id, record.kind, a, a + len(piece), piece))
        if len(out) == before and (AFFIRM.match(text[lo:hi]) or DENY.match(text[lo:hi])) and asked(record, lo):
            a, b = lo + len(text[lo:hi]) - len(text[lo:hi].lstrip()), len(text[:hi].rstrip())
            out.append(Clause(record.record_id, record.kind, a, b, text[a:b]))
    return out


def widen(spans: Sequence[tuple[int, int]], best: int, limit: int) -> tuple[int, int]:
    """Sentence `best` with its neighbours, taken on either side while the whole stays within
    `limit` characters: (index of the first, index of the last)."""
    i = j = best
    while True:
        grown = False
        if j + 1 < len(spans) and spans[j + 1][1] - spans[i][0] <= limit:
            j, grown = j + 1, True
        if i > 0 and spans[j][1] - spans[i - 1][0] <= limit:
            i, grown = i - 1, True
        if not grown:
            return i, j


def passage_around(text: str, spans: Sequence[tuple[int, int]], best: int, limit: int) -> tuple[int, int]:
    """Sentence `best` of `spans` widened with its neighbours up to `limit` characters, and
    cut at a space when that one sentence is longer."""
    i, j = widen(spans, best, limit)
    start, end = spans[i][0], spans[j][1]
    if end - start > limit:  # one long sentence: its first words
        cut = text.rfind(" ", start, start + limit)
        end = cut if cut > start else start + limit
    return start, end


def group_similar(keys: Sequence[Hashable], vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Indices grouped: an item joins the group whose key it shares, else the group whose
    first member is closest in meaning when at least `threshold` close, else starts one.
    Groups in the order they were started."""
    groups: list[list[int]] = []
    by_key: dict[Hashable, int] = {}
    for i, key in enumerate(keys):
        target = by_key.get(key)
        if target is None and groups:
            sims = np.array([float(vectors[g[0]] @ vectors[i]) for g in groups])
            best = int(np.argmax(sims))
            target = best if sims[best] >= threshold else None
        if target is None:
            target = len(groups)
            groups.append([])
            by_key[key] = target
        groups[target].append(i)
    return groups
