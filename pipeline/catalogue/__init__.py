"""Stage 2, catalogue: which touchpoints there are, and every mention under one of their names.

Offline, the catalogue was settled while coding (the library, what the data keeps naming, or
the codebook first), so this stage passes it on. On a model, coders' names are merged: to a
seed touchpoint when they mean it, else into groups of near-duplicates that the model names
and describes.
"""

from __future__ import annotations

from ..artefacts import Coding, Mentions
from ..contract import Corpus, ModelEngine, Stage, stages
from ..recode import apply
from . import llm


def settled(mentions: Mentions) -> Coding:
    return Coding(touchpoints=mentions.touchpoints, mentions=mentions.mentions, dropped=mentions.dropped,
                  emerging=mentions.emerging, learned=mentions.learned,
                  calibration=mentions.calibration, scale=mentions.scale)


def _parse(answers, fallback, corpus: Corpus, mentions: Mentions) -> Coding:
    # the fallback is the offline engine's, recoded already: applying the decisions again changes nothing
    coding = apply(llm.parse(answers, fallback, corpus=corpus, mentions=mentions), corpus.recodes)
    return coding.model_copy(update={"learned": mentions.learned, "calibration": mentions.calibration,
                                     "scale": mentions.scale})


STAGE = stages.register("catalogue")(Stage(
    name="catalogue", needs=("corpus", "mentions"), produces=Coding, version="catalogue.2",
    offline=lambda corpus, mentions: apply(settled(mentions), corpus.recodes),
    model=ModelEngine(prompts=(llm.PROMPT,), requests=llm.requests, parse=_parse), recoded=True))
