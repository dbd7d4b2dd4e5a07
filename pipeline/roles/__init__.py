"""Stage 7, roles: how well the company plays its role in each phase, per persona.

Transformational roles, one per phase (Empathizer, Storyteller, Guide, Partner), each aiming at
a target story; transactional roles Provider (before the investment) and Enabler (after). The
verdict, the counts and the cited quotes for and against are computed offline (`offline`); a
model drafts the assessment from those quotes (`llm`), never the verdict.
"""

from __future__ import annotations

from ..artefacts import Roles
from ..contract import ModelEngine, Stage, stages
from . import llm, offline
from .offline import ROLES, assess_roles, verdict  # noqa: F401 (the stage's public rule)

STAGE = stages.register("roles")(Stage(
    name="roles", needs=("catalogue", "journey"), produces=Roles, version="roles.3", offline=offline.roles,
    model=ModelEngine(prompts=(llm.PROMPT,), requests=llm.requests, parse=llm.parse)))
