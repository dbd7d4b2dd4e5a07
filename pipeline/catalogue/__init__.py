"""Stage 2, catalogue: which touchpoints there are, and every mention under one of their names.

Offline, the catalogue was settled while coding (the library, what the data keeps naming, or
the codebook first), so this stage passes it on. On a model, coders' names are merged: to a
seed touchpoint when they mean it, else into groups of near-duplicates that the model names
and describes.
"""

from __future__ import annotations

from ..artefacts import Coding, Mentions
from ..contract import ModelEngine, Stage, stages
from . import llm


def settled(mentions: Mentions) -> Coding:
    return Coding(touchpoints=mentions.touchpoints, mentions=mentions.mentions, dropped=mentions.dropped,
                  emerging=mentions.emerging)


STAGE = stages.register("catalogue")(Stage(
    name="catalogue", needs=("corpus", "mentions"), produces=Coding, version="catalogue.1",
    offline=lambda corpus, mentions: settled(mentions),
    model=ModelEngine(prompts=(llm.PROMPT,), requests=llm.requests, parse=llm.parse)))
