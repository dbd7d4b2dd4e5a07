"""Coding against a user's codebook: every code's name, description and examples are evidence.

A code is matched by meaning, never by a bare word: each clause is compared with the code's
prototypes (its name, its description, each item the description lists, each example). With
examples, a classifier is also trained at run time on them (softmax regression over the
embeddings: using the examples beats averaging them), and its probability is blended with the
prototype score. "None of these" competes as one more code, so a clause no closer to any code
than NONE_SIMILARITY stays uncoded whatever the codebook's size: the engine abstains when
unsure. A clause gets its best code, and a second one as probable as SECOND of it.
"""

from __future__ import annotations

import re

import numpy as np

from ..artefacts import TouchpointDef
from ..text import SEGMENT, WORDS
from .calibration import probability
from .cues import NEUTRAL, judge

MIN_SEGMENT_WORDS = 2
MAX_CODES = 2  # codes one clause may carry as a whole
MAX_WITH_SEGMENTS = 3  # codes one clause may carry with those of its segments
# A segment's own best code joins its clause's when this probable: "the food was great but the
# place was tiny" speaks of two things. Chosen on MAMS val and the dev splits: category F1
# 0.585 -> 0.640 on MAMS, the sample's dev 0.618 -> 0.626, Oakhaven dev 0.463 -> 0.449 (its
# labels name fewer in-passing touchpoints); lower thresholds traded more precision.
SEGMENT_THRESHOLD = 0.7
SECOND = 0.4  # a second code needs at least this share of the best code's probability
NONE_SIMILARITY = 0.3  # "none of these" competes as a code this similar to every clause
THRESHOLD = 0.2  # below this probability the best code is not taken: the clause stays uncoded
TEMPERATURE = 0.05  # of the softmax over prototype similarities (cosines of unit vectors)
ITEM_SPLIT = re.compile(r"[,;:()/]|\s(?:and|or|e\.g\.)\s", re.I)
MIN_ITEM_CHARS = 3
EPOCHS = 300
LEARNING_RATE = 0.5
L2 = 1e-3
MIX = 0.5  # weight of the prototype score beside the trained classifier's probability


def prototypes(code: TouchpointDef) -> list[str]:
    """The texts that stand for a code: name, name with description, the description's
    listed items, and the examples."""
    texts = [code.name]
    if code.description and code.description != code.name:
        texts.append(f"{code.name}: {code.description}")
        texts += [item.strip() for item in ITEM_SPLIT.split(code.description) if len(item.strip()) >= MIN_ITEM_CHARS]
    texts += list(code.examples)
    return list(dict.fromkeys(texts))


def segments_of(text: str) -> list[str]:
    """A clause's segments ("the food so-so", "the service good") of MIN_SEGMENT_WORDS or more."""
    return [s for s in SEGMENT.split(text) if len(WORDS.findall(s)) >= MIN_SEGMENT_WORDS]


def train_softmax(x: np.ndarray, y: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by gradient descent: weights and biases."""
    w = np.zeros((x.shape[1], classes), dtype=np.float32)
    b = np.zeros(classes, dtype=np.float32)
    onehot = np.eye(classes, dtype=np.float32)[y]
    for _ in range(EPOCHS):
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        grad = p - onehot
        w -= LEARNING_RATE * (x.T @ grad / len(x) + L2 * w)
        b -= LEARNING_RATE * grad.mean(axis=0)
    return w, b


def softmax(z: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = z / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class CodebookCatalogue:
    """The catalogue interface of the offline engine (`similarities`, `assign`) over a codebook."""

    def __init__(self, codes: list[TouchpointDef], embed, threshold: float = THRESHOLD,
                 temperature: float = TEMPERATURE) -> None:
        self.touchpoints = codes
        self.embed = embed
        self.threshold, self.temperature = threshold, temperature
        self.patterns = [None] * len(codes)  # no bare-word cues: codes are matched by meaning
        texts, owners = [], []
        for j, code in enumerate(codes):
            for text in prototypes(code):
                texts.append(text)
                owners.append(j)
        self.owners = np.array(owners)
        self.vectors = embed(texts)
        examples = [(j, e) for j, code in enumerate(codes) for e in code.examples]
        self.model = None
        self.kind = "codebook"  # of calibration: see `calibration`
        if examples and len({j for j, _ in examples}) > 1:
            x = np.vstack([self.vectors, embed([e for _, e in examples])])
            y = np.concatenate([self.owners, [j for j, _ in examples]])
            self.mean, self.std = x.mean(axis=0), x.std(axis=0) + 1e-6
            self.model = train_softmax(self.scale(x), y, len(codes))
            self.kind = "codebook_examples"

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """Per clause and code, the probability-like score of the code."""
        sims = vectors @ self.vectors.T
        best = np.full((len(vectors), len(self.touchpoints)), -1.0, dtype=np.float32)
        for j in range(len(self.touchpoints)):
            cols = self.owners == j
            best[:, j] = sims[:, cols].max(axis=1)
        # "none of these" competes as one more code, as close as NONE_SIMILARITY: a clause
        # that is no closer to any code goes uncoded, whatever the codebook's size
        none = np.full((len(vectors), 1), NONE_SIMILARITY, dtype=np.float32)
        score = softmax(np.hstack([best, none]), self.temperature)[:, :-1]
        if self.model is not None:  # which code, blended with the classifier; whether any, as above
            w, b = self.model
            some = score.sum(axis=1, keepdims=True)
            learned = softmax(self.scale(vectors) @ w + b)
            score = some * (MIX * score / np.maximum(some, 1e-9) + (1 - MIX) * learned)
        return score

    def scale(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def local_sentiment(self, text: str, j: int, hits: int) -> float | None:
        """The judgement toward code j, not the clause's overall tone: of the clause's segments
        ("the food so-so, the service good"), the one closest to the code speaks for it. When
        that segment judges nothing, the clause's tone stands (letting it say "neutral" helped
        the restaurant sentences of MAMS and hurt both customer-research corpora)."""
        segments = segments_of(text)
        if len(segments) < 2:
            return None
        own = segments[int(np.argmax(self.similarities(self.embed(segments))[:, j]))]
        value, _ = judge(own)
        return value if abs(value) >= NEUTRAL else None

    def assign_all(self, texts: list[str], scores: np.ndarray) -> list[list[tuple[int, float]]]:
        """Each clause's codes (`assign`), joined by its segments' own best codes, where a clause
        has two segments or more."""
        hits = [self.assign(text, row) for text, row in zip(texts, scores, strict=True)]
        owners, segments = [], []
        for i, text in enumerate(texts):
            parts = segments_of(text)
            if len(parts) > 1:
                owners += [i] * len(parts)
                segments += parts
        if not segments:
            return hits
        for i, row in zip(owners, self.similarities(self.embed(segments)), strict=True):
            j = int(np.argmax(row))
            if row[j] >= SEGMENT_THRESHOLD and len(hits[i]) < MAX_WITH_SEGMENTS and j not in {k for k, _ in hits[i]}:
                hits[i].append((j, probability(float(row[j]), self.kind)))
        return hits

    def assign(self, clause: str, scores: np.ndarray) -> list[tuple[int, float]]:
        """The best code if it clears the threshold, and the next ones as close as SECOND of it."""
        order = np.argsort(-scores)[:MAX_CODES]
        top = float(scores[order[0]])
        if top < self.threshold:
            return []
        return [(int(j), probability(float(scores[j]), self.kind)) for j in order if scores[j] >= SECOND * top]
