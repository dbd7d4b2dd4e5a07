"""A mention's confidence is the probability that its code is right.

Each way of coding has a raw score (the library's cue-and-meaning score, the codebook's
prototype softmax, the same blended with a classifier trained on the codebook's examples);
Platt scaling maps it to a probability: sigmoid(a * logit(raw) + b). The coefficients were
fitted once by `benchmarks/calibrate.py` on data the engines are not measured on: the library
on the sample's and Oakhaven's dev splits, codes with descriptions only on MAMS train and
Oakhaven dev, codes with examples on the BANKING77 train queries outside its 10-shot protocol.
The engines' coding decisions stay on the raw score; only what a mention reports changes.

How often a code is right at a given score depends on the codebook: without examples, one
curve serves every codebook and is off by about 0.16 on each corpus it was fitted on; with
examples it is off by under 0.01 on BANKING77 (see the README).
"""

from __future__ import annotations

import math

# kind -> (a, b), from `python benchmarks/calibrate.py` (2026-12-01, wordllama)
PLATT: dict[str, tuple[float, float]] = {
    "library": (1.907, -1.683),
    "codebook": (0.222, 0.191),
    "codebook_examples": (1.085, 0.066),
}
VERSION = "calibration.v3"  # part of the offline engine's version: refitted coefficients are a new engine
EDGE = 1e-4  # raw scores are clipped this far from 0 and 1 before the logit


def probability(raw: float, kind: str) -> float:
    """The calibrated probability for a raw score of the given kind of coding."""
    a, b = PLATT[kind]
    return round(_sigmoid(a * _logit(raw) + b), 3)


# A project's own verdicts recalibrate its confidences once there are this many, both right and
# wrong ones among them: the built-in curve is one curve for every corpus (see above).
MIN_VERDICTS = 30
MIN_EACH = 5
NEWTON_STEPS = 50
RIDGE = 1e-3  # keeps the fit finite when the verdicts separate perfectly


def _logit(p: float) -> float:
    x = min(1 - EDGE, max(EDGE, p))
    return math.log(x / (1 - x))


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def refit(outcomes: list[tuple[float, bool]]) -> tuple[float, float] | None:
    """Platt scaling of the engine's confidences on a researcher's verdicts (confidence, right):
    (a, b) with P(right) = sigmoid(a * logit(confidence) + b), or None with too few verdicts."""
    right = sum(ok for _, ok in outcomes)
    if len(outcomes) < MIN_VERDICTS or min(right, len(outcomes) - right) < MIN_EACH:
        return None
    xs = [_logit(p) for p, _ in outcomes]
    ys = [1.0 if ok else 0.0 for _, ok in outcomes]
    a, b = 1.0, 0.0
    for _ in range(NEWTON_STEPS):  # Newton's method on the log loss, a 2x2 system
        ga = gb = haa = hab = hbb = 0.0
        for x, y in zip(xs, ys, strict=True):
            p = _sigmoid(a * x + b)
            w = p * (1 - p)
            ga += (p - y) * x
            gb += p - y
            haa += w * x * x
            hab += w * x
            hbb += w
        ga, haa, hbb = ga + RIDGE * a, haa + RIDGE, hbb + RIDGE
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) + abs(db) < 1e-9:
            break
    return (round(a, 4), round(b, 4)) if a > 0 else None


def recalibrated(p: float, fit: tuple[float, float]) -> float:
    """A confidence on the project's own curve."""
    return round(_sigmoid(fit[0] * _logit(p) + fit[1]), 3)


def built_in(p: float, fit: tuple[float, float] | None) -> float:
    """The engine's own confidence behind one shown on the project's curve `fit` (a > 0)."""
    return p if not fit else round(_sigmoid((_logit(p) - fit[1]) / fit[0]), 3)
