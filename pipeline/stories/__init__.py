"""Stage 6, stories: sensemaking hypotheses per persona and pivotal decision.

Context (identity, backstory, situation), motivators (functional goals, rational approach
with its promotion or prevention focus, social influences, emotional drivers), the explicit
and the implicit story. Offline from cue lexicons over the records that hold the decision
(`offline`); on a model, drafted from passages retrieved for each decision, with one to
three jobs for the value map (`llm`). All of it is a hypothesis with its evidence.
"""

from __future__ import annotations

from ..artefacts import Stories
from ..contract import ModelEngine, Stage, stages
from . import llm, offline

STAGE = stages.register("stories")(Stage(
    name="stories", needs=("corpus", "catalogue", "journey", "personas"), produces=Stories, version="stories.2",
    offline=offline.stories, model=ModelEngine(prompts=(llm.PROMPT,), requests=llm.requests, parse=llm.parse)))
