"""Stage 8, opportunities: five improvement hypotheses for each touchpoint to fix first and
each easy fix, each with what exactly changes, the resources it needs, how success is
measured, what could go wrong, and the customers' words that motivate it. Offline from a
library keyed by the kind of friction customers report (`offline`); on a model, drafted from
the touchpoint's most negative quotes (`llm`). They are hypotheses, and say so.
"""

from __future__ import annotations

from ..artefacts import Opportunities
from ..contract import ModelEngine, Stage, stages
from . import llm, offline

STAGE = stages.register("opportunities")(Stage(
    name="opportunities", needs=("corpus", "catalogue", "scores", "stories"), produces=Opportunities,
    version="opportunities.2",
    offline=offline.opportunities, model=ModelEngine(prompts=(llm.PROMPT,), requests=llm.requests, parse=llm.parse)))
