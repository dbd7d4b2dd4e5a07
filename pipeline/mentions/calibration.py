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
    x = min(1 - EDGE, max(EDGE, raw))
    z = a * math.log(x / (1 - x)) + b
    return round(1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z)), 3)
