"""Stage 1, mentions: what each piece of customer text says about which touchpoint.

A mention is a touchpoint, its channel, a verbatim quote (a span of the record), sentiment
in [-1, 1] with its polarity, whether the touchpoint did its job, and a confidence. Offline:
clauses, a touchpoint catalogue, CX cues and embeddings (`offline`); on a model: chunks read
once each, quotes checked against their records (`llm`).
"""

from __future__ import annotations

from ..artefacts import Mentions
from ..contract import ModelEngine, Stage, stages
from . import calibration, cues, library, llm, offline

STAGE = stages.register("mentions")(Stage(
    name="mentions", needs=("corpus",), produces=Mentions,
    version=f"mentions.2+{cues.VERSION}+{library.VERSION}+{calibration.VERSION}",
    offline=offline.code, model=ModelEngine(prompts=(llm.PROMPT,), requests=llm.requests, parse=llm.parse), learns=True))
