"""Metrics as plain functions over gold and predicted values; their intervals come from the
one bootstrap in `valuestory.stats`. No I/O here: the harness feeds them data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def prf(gold: Sequence[set], predicted: Sequence[set]) -> tuple[float, float, float]:
    """Micro precision, recall and F1 of predicted sets against gold sets, item by item."""
    tp = sum(len(g & p) for g, p in zip(gold, predicted, strict=True))
    n_pred = sum(len(p) for p in predicted)
    n_gold = sum(len(g) for g in gold)
    precision = tp / n_pred if n_pred else (1.0 if not n_gold else 0.0)
    recall = tp / n_gold if n_gold else (1.0 if not n_pred else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def macro_f1_sets(gold: Sequence[set], predicted: Sequence[set]) -> float:
    """F1 per label (over the labels in gold or predicted), averaged."""
    labels = set().union(*gold, *predicted) if gold else set()
    if not labels:
        return 1.0
    scores = []
    for label in labels:
        g = [{label} & s for s in gold]
        p = [{label} & s for s in predicted]
        scores.append(prf(g, p)[2])
    return sum(scores) / len(scores)


def accuracy(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold) if gold else 0.0


def macro_f1(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """F1 per class of a single-label task, averaged over the classes in gold or predicted."""
    classes = set(gold) | set(predicted)
    if not classes:
        return 0.0
    scores = []
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, predicted, strict=True))
        wrong = sum((g == c) != (p == c) for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + wrong) if tp + wrong else 0.0)
    return sum(scores) / len(scores)


def cohen_kappa(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    n = len(gold)
    if not n:
        return 0.0
    observed = accuracy(gold, predicted)
    g, p = Counter(gold), Counter(predicted)
    expected = sum(g[c] * p[c] for c in g) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def mean_absolute_error(gold: Sequence[float], predicted: Sequence[float]) -> float:
    return sum(abs(g - p) for g, p in zip(gold, predicted, strict=True)) / len(gold) if gold else 0.0


CALIBRATION_BINS = 10


def calibration_error(outcomes: Sequence[tuple[float, bool]], bins: int = CALIBRATION_BINS) -> float | None:
    """Expected calibration error of (confidence, was it right) pairs: over equal-width
    confidence bins, the gap between the mean confidence and the share right, weighted by the
    bin's size. 0 when a confidence of 0.7 is right 70% of the time."""
    if not outcomes:
        return None
    total: dict[int, list[float]] = {}
    for confidence, right in outcomes:
        b = total.setdefault(min(int(confidence * bins), bins - 1), [0, 0.0, 0.0])
        b[0] += 1
        b[1] += confidence
        b[2] += bool(right)
    return sum(abs(c - r) for _, c, r in total.values()) / len(outcomes)


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    if len(xs) < 2:
        return 0.0
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sx = sum((a - mx) ** 2 for a in rx) ** 0.5
    sy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (sx * sy) if sx and sy else 0.0


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks
