"""A researcher's labels as corrections the engine learns from (`eval --labels --learn`, and
the learning curve of `benchmarks/learning.py`).

Each mention of the run in a labelled unit gets the verdict the researcher's coding gives
it, as `valuestory review` would take it: its code is among the unit's codes (confirm, or
set its polarity where the label's sign differs), or it is not (reassign it to the one code
the unit has that no mention found, else reject it).
"""

from __future__ import annotations

import random
from collections import defaultdict

from valuestory.pipeline.artefacts import Mention
from valuestory.pipeline.mentions.calibration import built_in
from valuestory.pipeline.mentions.cues import polarity as polarity_of
from valuestory.pipeline.recode import Recode

from .dataset import GoldUnit


def sign(sentiment: int | None) -> str | None:
    """A label's sentiment (-2..2) as a polarity."""
    return None if sentiment is None else "negative" if sentiment < 0 else "positive" if sentiment > 0 else "neutral"


def corrections(mentions: list[Mention], gold: list[GoldUnit], unit_of, match,
                per_code: int | None = None, seed: int = 0, fit: tuple[float, float] | None = None,
                scale: str = "") -> list[Recode]:
    """The verdicts the labels give the run's mentions in labelled units; with `per_code`, at
    most that many per code (the run's code a verdict is about), drawn with `seed`. `fit` is
    the curve the run's confidences are on (the engine's own confidence is kept), `scale` the
    kind of coding they are of."""
    units = {u.unit: u for u in gold if u.touchpoints}
    by_unit: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        if (unit := unit_of(m.record_id, m.start)) in units:
            by_unit[unit].append(m)
    out: list[Recode] = []
    for unit, found in by_unit.items():
        g = units[unit]
        named = [(m, match(m.touchpoint)) for m in found]
        missing = [t for t in g.touchpoints if t not in {n for _, n in named}]
        for m, name in named:
            about = {"touchpoints": [m.touchpoint], "record_id": m.record_id, "quote": m.quote, "texts": [m.quote],
                     "confidence": built_in(m.confidence, fit), "scale": scale}
            if name in g.touchpoints:
                wanted = sign(g.touchpoints[name])
                out.append(Recode(action="polarity", polarity=wanted, sentiment=m.sentiment, **about) if wanted and
                           wanted != polarity_of(m.sentiment) else
                           Recode(action="confirm", polarity=wanted, sentiment=m.sentiment, **about))
            elif len(missing) == 1:
                out.append(Recode(action="reassign", into=missing[0], **about))
            else:
                out.append(Recode(action="reject", **about))
    if per_code is None:
        return out
    random.Random(seed).shuffle(out)
    taken: dict[str, int] = defaultdict(int)
    kept = []
    for r in out:
        if taken[r.touchpoints[0]] < per_code:
            taken[r.touchpoints[0]] += 1
            kept.append(r)
    return kept
