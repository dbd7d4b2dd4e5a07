"""Role assessments on a model: per persona, one request shows each phase's role, its
computed verdict and mean sentiment, and the customers' quotes for and against it (tagged); the model
drafts what the company does in that role as customers report it. The verdict, the figures and
the quotes stay computed; a phase the model did not assess keeps the offline words."""

from __future__ import annotations

from collections import defaultdict
from html import escape

from pydantic import BaseModel, Field

from valuestory import prompts
from valuestory.llm.runner import Answer, Request
from valuestory.llm.tags import Tags

from ..artefacts import Coding, Journey, Phase, RoleAssessment, Roles
from ..contract import answered
from .offline import roles as offline_roles

PROMPT = "roles.v1"
JUDGED = ("plays it well", "plays it partly", "falls short")  # verdicts a model may explain


class DraftAssessment(BaseModel):
    phase: Phase
    assessment: str = Field(min_length=10, max_length=800)
    evidence: list[str] = Field(min_length=1)


class RolesAnswer(BaseModel):
    assessments: list[DraftAssessment]


def _judged(roles: Roles) -> dict[str, list[RoleAssessment]]:
    by_persona: dict[str, list[RoleAssessment]] = defaultdict(list)
    for r in roles.roles:
        if r.verdict in JUDGED and (r.supporting_quotes or r.undermining_quotes):
            by_persona[r.persona or ""].append(r)
    return by_persona


def requests(catalogue: Coding, journey: Journey) -> list[Request]:
    out = []
    for persona, judged in sorted(_judged(offline_roles(catalogue, journey)).items()):
        tags = Tags()
        lines = [f"Persona: {escape(persona or 'all customers', quote=False)}"]
        for r in judged:  # figures at the precision a draft needs: a few more records ask the same
            lines.append(f"Phase: {r.phase}; role {r.role} (target story {r.target_story}, transactional role "
                         f"{r.transactional_role}); computed verdict: {r.verdict} (mean sentiment {r.strength:+.1f}); "
                         f"supporting touchpoints: "
                         f"{escape(', '.join(r.supporting_touchpoints) or 'none', quote=False)}; undermining: "
                         f"{escape(', '.join(r.undermining_touchpoints) or 'none', quote=False)}")
            lines.append("For: " + (" ".join(tags.render(q) for q in r.supporting_quotes) or "none"))
            lines.append("Against: " + (" ".join(tags.render(q) for q in r.undermining_quotes) or "none"))
        phases = {r.phase for r in judged}
        out.append(Request(
            stage="roles", key=persona,
            messages=[{"role": "system", "content": prompts.render(PROMPT)},
                      {"role": "user", "content": "\n".join(lines)}],
            schema=RolesAnswer, prompt_version=PROMPT, context=(persona, tags),
            check=lambda a, tags=tags, phases=phases: _problems(a, tags, phases)))
    return out


def _problems(answer: RolesAnswer, tags: Tags, phases: set[str]) -> list[str]:
    problems = []
    for a in answer.assessments:
        if a.phase not in phases:
            problems.append(f"the phase {a.phase!r} is not one of those listed")
        problems += [f"tag {r!r} is not one of the passages" for r in tags.unknown(a.evidence)]
    return problems


def parse(answers: list[Answer], fallback, catalogue: Coding, journey: Journey) -> Roles:
    """The drafted assessments where the answer passed its checks; the offline words elsewhere."""
    drafted: dict[tuple[str, str], str] = {}
    model = {}
    for answer in answered(answers):
        persona, _ = answer.request.context
        for a in answer.value.assessments:
            drafted[(persona, a.phase)] = f"Draft: {a.assessment.strip()}"
            model[(persona, a.phase)] = answer.model
    return Roles(roles=[r.model_copy(update={"assessment": drafted[key], "engine": f"llm draft ({model[key]})"})
                        if (key := (r.persona or "", r.phase)) in drafted else r for r in fallback().roles])
