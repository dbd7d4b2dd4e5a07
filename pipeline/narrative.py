"""The narrative stages on a language model: sensemaking stories, jobs and improvement
hypotheses drafted from evidence retrieved from the vector store.

Per persona, one request shows the model a few passages for each pivotal decision with
enough evidence and for the persona's needs and gaps, and asks for the stories and one to
three jobs; one more request asks for five hypotheses per touchpoint to fix. Answers are
checked before they are used: every cited tag exists, every job is a job (verb + object +
circumstance, no solution, no "manage"), every value gap is a passage's exact words;
problems go back to the model. Confidence comes from the amount of evidence, never from
the model. Whatever the model could not draft falls back to the offline engine, labelled so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from valuestory.prompts import load
from valuestory.records import Record

from .evidence import PASSAGE_CHARS, Passage, Retriever, Tags
from .grounding import locate
from .journey import Decision, DecisionType
from .mentions import Mention
from .opportunities import Opportunity
from .runner import Request, Runner
from .sensemaking import Hypothesis, Statement, confidence
from .valuemap import JobDraft, job_problems

PROMPT_VERSIONS = {"value_story": "value_story.v1", "opportunities": "opportunities.v1"}
PER_DECISION = 2  # passages for each pivotal decision
PER_NEEDS = 4  # passages for the persona's needs and gaps
PER_TOUCHPOINT = 3  # passages for each touchpoint to fix
MIN_RECORDS = 2  # a decision needs this many records behind it to get a story

# What each decision is about, as a question the retrieval answers from the customers' words.
QUESTIONS: dict[str, str] = {
    "inciting incident": "what happened that made me realise things could not go on like this",
    "intention": "why I started looking for something better and how I searched",
    "investment": "why I chose it, signed up and paid",
    "interpretation": "whether it was worth it and why I renewed or would recommend it",
    "integration": "how it changed my work and who I told about it",
    "churn": "why I cancelled, left or switched to something else",
}
NEEDS = "what I need to get done, what I want to achieve, and what I can't do"
CONTEXT_KINDS = ("identity", "backstory", "situation")
MOTIVATOR_KINDS = ("functional_goals", "rational_approach", "social_influences", "emotional_drivers")


class Point(BaseModel):
    kind: Literal["identity", "backstory", "situation", "functional_goals", "rational_approach",
                  "social_influences", "emotional_drivers"]
    text: str = Field(min_length=3, max_length=400)
    evidence: list[str] = Field(min_length=1)


class DraftStory(BaseModel):
    decision: DecisionType
    points: list[Point]
    focus: Literal["promotion", "prevention", "mixed", "unknown"] = "unknown"
    explicit_story: str = Field(min_length=3)
    implicit_story: str = Field(min_length=3)
    evidence: list[str] = Field(min_length=1)


class DraftJob(BaseModel):
    job: str
    delta: Literal["Minimize", "Increase"]
    measure: str
    focus: str
    value_gap: str = ""
    value_promise: str
    evidence: list[str] = Field(min_length=1)


class ValueStoryAnswer(BaseModel):
    stories: list[DraftStory]
    jobs: list[DraftJob] = Field(max_length=3)


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


@dataclass
class PersonaRequest:
    persona: str
    decisions: dict[str, list[str]]  # decision -> records behind it
    tags: Tags
    request: Request


def value_story_requests(retriever: Retriever, records: list[Record], decisions: list[Decision],
                         persona_of: dict[str, str]) -> list[PersonaRequest]:
    behind: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for d in decisions:
        if d.record_id not in behind[d.persona][d.decision]:
            behind[d.persona][d.decision].append(d.record_id)
    members: dict[str, list[str]] = defaultdict(list)
    for r in records:
        members[persona_of.get(r.record_id, "")].append(r.record_id)
    out = []
    for persona in sorted(members):
        tags = Tags()
        told = {k: ids for k, ids in sorted(behind[persona].items()) if len(ids) >= MIN_RECORDS}
        lines = [f"Persona: {persona or 'all customers'}", "Decisions:"]
        for decision, ids in told.items():
            passages = retriever.passages(QUESTIONS[decision], ids, PER_DECISION)
            lines.append(f"- {decision}: " + " ".join(tags.render(p) for p in passages))
        if not told:
            lines.append("- none with enough evidence: give no stories")
        lines.append("Needs and gaps:")
        lines += [tags.render(p) for p in retriever.passages(NEEDS, members[persona], PER_NEEDS)]
        if not tags.passages:
            continue
        request = Request(
            stage="value story", key=persona,
            messages=[{"role": "system", "content": load("value_story", 1)},
                      {"role": "user", "content": "\n".join(lines)}],
            schema=ValueStoryAnswer, prompt_version=PROMPT_VERSIONS["value_story"],
            check=lambda a, tags=tags, told=set(told): _story_problems(a, tags, told))
        out.append(PersonaRequest(persona, told, tags, request))
    return out


def _story_problems(answer: ValueStoryAnswer, tags: Tags, told: set[str]) -> list[str]:
    problems = []
    for s in answer.stories:
        if s.decision not in told:
            problems.append(f"the decision {s.decision!r} is not one of those listed")
        refs = s.evidence + [r for p in s.points for r in p.evidence]
        problems += [f"tag {r!r} is not one of the passages" for r in tags.unknown(refs)]
    for j in answer.jobs:
        problems += [f"the job {j.job!r} {p}" for p in job_problems(j.job)]
        problems += [f"tag {r!r} is not one of the passages" for r in tags.unknown(j.evidence)]
        if j.value_gap.strip() and not any(locate(j.value_gap, p.text) for p in tags.passages):
            problems.append(f"the value gap {j.value_gap[:80]!r} is not a passage's exact words: copy them, or give \"\"")
    return problems


def read_value_stories(requests: list[PersonaRequest], answers: list, model: str
                       ) -> tuple[list[Hypothesis], dict[str, list[JobDraft]]]:
    """Stories and jobs from the answers that passed their checks."""
    engine = f"llm draft ({model})"
    stories: list[Hypothesis] = []
    jobs: dict[str, list[JobDraft]] = {}
    for pr, answer in zip(requests, answers, strict=True):
        if answer.value is None or answer.problems:
            continue
        tags = pr.tags
        for s in answer.value.stories:
            points = {k: [Statement(text=p.text, records=tags.records(p.evidence), verbatim=False)
                          for p in s.points if p.kind == k] for k in CONTEXT_KINDS + MOTIVATOR_KINDS}
            cited = tags.records(s.evidence + [r for p in s.points for r in p.evidence])
            stories.append(Hypothesis(
                persona=pr.persona, decision=s.decision,
                context={k: points[k] for k in CONTEXT_KINDS}, motivators={k: points[k] for k in MOTIVATOR_KINDS},
                focus=s.focus, explicit_story=f"Draft, in their voice: {s.explicit_story}",
                implicit_story=f"Hypothesis: {s.implicit_story}",
                confidence=confidence(len(pr.decisions[s.decision]), sum(map(len, points.values()))),
                evidence=sorted(set(cited) | set(pr.decisions[s.decision])), engine=engine))
        drafts = []
        for j in answer.value.jobs:
            gap = next((p.text[a:b] for p in tags.passages if (span := locate(j.value_gap, p.text))
                        for a, b in [span]), "") if j.value_gap.strip() else ""
            drafts.append(JobDraft(job=j.job.strip().rstrip("."), records=set(tags.records(j.evidence)),
                                   statements=len(j.evidence),
                                   desired_outcome=f"{j.delta} {j.measure.strip()} {j.focus.strip()}",
                                   value_gap=gap, value_promise=j.value_promise.strip()))
        if drafts:
            jobs[pr.persona] = drafts
    return stories, jobs


def opportunity_request(targets: list[str], mentions: list[Mention]) -> tuple[Request, Tags] | None:
    """Evidence per touchpoint: its most negative mentions, each from another record; the
    quotes are already verbatim spans, so they are the passages."""
    tags = Tags()
    lines = []
    for tp in targets:
        picked, seen = [], set()
        for m in sorted((m for m in mentions if m.touchpoint == tp), key=lambda m: m.sentiment):
            if m.record_id not in seen and len(picked) < PER_TOUCHPOINT:
                picked.append(Passage(m.record_id, m.start, m.end, m.quote[:240]))
                seen.add(m.record_id)
        lines.append(f"Touchpoint: {tp}\n" + "\n".join(tags.render(p) for p in picked))
    if not targets:
        return None
    request = Request(
        stage="opportunities", key=",".join(targets),
        messages=[{"role": "system", "content": load("opportunities", 1)}, {"role": "user", "content": "\n".join(lines)}],
        schema=OpportunitiesAnswer, prompt_version=PROMPT_VERSIONS["opportunities"],
        check=lambda a: _opportunity_problems(a, tags, targets))
    return request, tags


def _opportunity_problems(answer: OpportunitiesAnswer, tags: Tags, targets: list[str]) -> list[str]:
    given = {t.touchpoint.strip().lower() for t in answer.touchpoints}
    problems = [f"no hypotheses for the touchpoint {tp!r}" for tp in targets if tp.lower() not in given]
    for t in answer.touchpoints:
        for h in t.hypotheses:
            problems += [f"tag {r!r} is not one of the passages" for r in tags.unknown(h.evidence)]
    return problems


def read_opportunities(answer, tags: Tags, targets: list[str], model: str) -> dict[str, list[Opportunity]]:
    """touchpoint -> its five drafted hypotheses; missing when the answer failed its checks."""
    if answer.value is None or answer.problems:
        return {}
    by_name = {tp.lower(): tp for tp in targets}
    out: dict[str, list[Opportunity]] = {}
    for t in answer.value.touchpoints:
        tp = by_name.get(t.touchpoint.strip().lower())
        if tp is None:
            continue
        out[tp] = [Opportunity(
            touchpoint=tp, rank=rank, hypothesis=f"Hypothesis: {h.hypothesis}", change=h.change,
            resources=h.resources, success_measure=h.success_measure,
            unintended_consequences=h.unintended_consequences, friction="",
            evidence=tags.records(h.evidence),
            quotes=[p.text for r in h.evidence if (p := tags.get(r))], engine=f"llm draft ({model})")
            for rank, h in enumerate(t.hypotheses[:5], start=1)]
    return out


def draft_narratives(runner: Runner, retriever: Retriever, records: list[Record], mentions: list[Mention],
                     decisions: list[Decision], persona_of: dict[str, str], targets: list[str]
                     ) -> tuple[list[Hypothesis], dict[str, list[JobDraft]], dict[str, list[Opportunity]]]:
    story_requests = value_story_requests(retriever, records, decisions, persona_of)
    requests = [pr.request for pr in story_requests]
    opp = opportunity_request(targets, mentions)
    answers = runner.run(requests + ([opp[0]] if opp else []))
    stories, jobs = read_value_stories(story_requests, answers[:len(story_requests)], runner.model.name)
    opportunities = read_opportunities(answers[-1], opp[1], targets, runner.model.name) if opp else {}
    return stories, jobs, opportunities


def plan(personas: int) -> dict:
    """What the narrative stages would send at most: one value-story call per persona and one
    opportunities call, each holding a bounded number of passages (about 3 characters a token)."""
    from valuestory.tokens import count_tokens
    story = count_tokens(load("value_story", 1)) + (len(QUESTIONS) * PER_DECISION + PER_NEEDS) * (PASSAGE_CHARS // 3 + 4)
    opportunities = count_tokens(load("opportunities", 1)) + 6 * PER_TOUCHPOINT * (240 // 3 + 4)
    return {"calls": personas + 1, "max_tokens": personas * story + opportunities}
