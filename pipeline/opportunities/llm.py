"""Improvement hypotheses on a model: one request for every touchpoint to fix, showing its
scores (computed from the data), its most negative mentions (verbatim spans already, so they
are the passages) and the jobs the personas hire the company for (where a model drafted them
with the stories); each hypothesis cites the passages it answers. What the model could not
draft stays the offline engine's."""

from __future__ import annotations

from html import escape

from pydantic import BaseModel, Field

from valuestory import prompts
from valuestory.llm.runner import Answer, Request
from valuestory.llm.tags import Tags

from ..artefacts import Coding, Opportunities, Opportunity, Scorecard, Stories, TouchpointScore
from ..contract import Corpus, answered

PROMPT = "opportunities.v2"
PER_TOUCHPOINT = 3  # passages for each touchpoint to fix
QUOTE_CHARS = 240


class DraftHypothesis(BaseModel):
    hypothesis: str
    change: str
    resources: str
    success_measure: str
    unintended_consequences: str
    evidence: list[str] = Field(min_length=1)


class TouchpointHypotheses(BaseModel):
    touchpoint: str
    hypotheses: list[DraftHypothesis] = Field(min_length=5)


class OpportunitiesAnswer(BaseModel):
    touchpoints: list[TouchpointHypotheses]



def requests(corpus: Corpus, catalogue: Coding, scores: Scorecard, stories: Stories) -> list[Request]:
    """Evidence per touchpoint: its scores and its most negative mentions, each from another
    record; the personas' jobs first."""
    targets = targets_of(scores)
    if not targets:
        return []
    tags = Tags()
    lines = [f"Jobs: {escape(persona or 'all customers', quote=False)}: "
             + "; ".join(escape(f"{j.job} ({j.desired_outcome})", quote=False) for j in jobs)
             for persona, jobs in sorted(stories.jobs.items()) if jobs]
    score_of = {s.touchpoint: s for s in scores.scores if s.scope == "overall"}
    for tp in targets:
        picked, seen = [], set()
        for m in sorted((m for m in catalogue.mentions if m.touchpoint == tp), key=lambda m: m.sentiment):
            if m.record_id not in seen and len(picked) < PER_TOUCHPOINT:
                span = m.span
                picked.append(span.model_copy(update={"text": span.text[:QUOTE_CHARS]}))
                seen.add(m.record_id)
        lines.append(f"Touchpoint: {escape(tp, quote=False)}\n" + (f"Scores: {_scores(score_of[tp])}\n" if tp in score_of else "")
                     + "\n".join(tags.render(p) for p in picked))
    return [Request(
        stage="opportunities", key=",".join(targets),
        messages=[{"role": "system", "content": prompts.render(PROMPT)}, {"role": "user", "content": "\n".join(lines)}],
        schema=OpportunitiesAnswer, prompt_version=PROMPT, context=tags,
        check=lambda a: _problems(a, tags, targets))]


def _scores(s: TouchpointScore) -> str:
    """The scores at the precision a hypothesis needs (the report shows them in full): a few
    records more leave the request as it was, answered from the cache."""
    parts = []
    if (e := s.emotional_impact).value is not None:
        parts.append(f"emotional impact {e.value:+.1f}" + (f" [{e.low:+.1f}, {e.high:+.1f}]" if e.low is not None else ""))
    if (f := s.functional_performance).value is not None:
        parts.append(f"did its job in about {round(f.value, 1):.0%} of the mentions that say")
    if (n := s.nps_impact).value is not None:
        parts.append(f"NPS impact {n.value:+.0f} points")
    parts.append(f"effort to improve: {s.effort}")
    return "; ".join(parts)


def targets_of(scores: Scorecard) -> list[str]:
    """The touchpoints to fix first, then the easy fixes."""
    return list(dict.fromkeys(scores.fix_first + scores.easy_fixes))


def _problems(answer: OpportunitiesAnswer, tags: Tags, targets: list[str]) -> list[str]:
    given = {t.touchpoint.strip().lower() for t in answer.touchpoints}
    problems = [f"no hypotheses for the touchpoint {tp!r}" for tp in targets if tp.lower() not in given]
    for t in answer.touchpoints:
        for h in t.hypotheses:
            problems += [f"tag {r!r} is not one of the passages" for r in tags.unknown(h.evidence)]
    return problems


def parse(answers: list[Answer], fallback, corpus: Corpus, catalogue: Coding, scores: Scorecard,
          stories: Stories) -> Opportunities:
    """The drafted hypotheses where the answer passed its checks; the offline ones elsewhere."""
    offline = fallback()
    drafted: dict[str, list[Opportunity]] = {}
    for answer in answered(answers):
        tags: Tags = answer.request.context
        by_name = {tp.lower(): tp for tp in offline.targets}
        for t in answer.value.touchpoints:
            tp = by_name.get(t.touchpoint.strip().lower())
            if tp is None:
                continue
            drafted[tp] = [Opportunity(
                touchpoint=tp, rank=rank, hypothesis=f"Hypothesis: {h.hypothesis}", change=h.change,
                resources=h.resources, success_measure=h.success_measure,
                unintended_consequences=h.unintended_consequences, friction="",
                evidence=tags.records(h.evidence),
                quotes=[p for r in h.evidence if (p := tags.get(r))], engine=f"llm draft ({answer.model})")
                for rank, h in enumerate(t.hypotheses[:5], start=1)]
    items = [o for tp in offline.targets
             for o in (drafted.get(tp) or [o for o in offline.items if o.touchpoint == tp])]
    return Opportunities(targets=offline.targets, items=items)
