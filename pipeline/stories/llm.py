"""Sensemaking stories and jobs on a language model, drafted from the evidence the run has
already read.

Per persona, one request carries its profile and the focus phase and decision chosen from
the data (`brief.py`), the decisions' own quotes (more for the focus decision than for the
others with enough evidence), the customers' coded quotes closest to their needs and gaps,
and the brief's before-and-after sentences, each a span of its record, never a passage of
the corpus sent again; the seed's thought-starter questions are in the instructions. It asks
for the stories, one to three jobs and the transformational storyline. Answers are checked
before they are used: every cited tag exists, every job is a job (verb + object +
circumstance, no solution, no "manage"), every value gap and storyline quote is an evidence
item's exact words; problems go back to the model. Confidence comes from the amount of
evidence, never from the model. Whatever the model could not draft falls back to the offline
engine, labelled so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape, unescape
from typing import Literal

from pydantic import BaseModel, Field

from valuestory import prompts
from valuestory.llm.runner import Answer, Request
from valuestory.llm.tags import Tags

from ..artefacts import (
    Brief,
    CitedSpan,
    Coding,
    Decision,
    DecisionType,
    Hypothesis,
    JobDraft,
    Journey,
    Moment,
    Personas,
    Statement,
    Stories,
)
from ..contract import Corpus, Passage, answered
from ..grounding import locate
from ..jobs import job_problems
from ..text import NOTE_KINDS
from .brief import briefs
from .offline import MIN_RECORDS, confidence

PROMPT = "value_story.v3"
PER_DECISION = 2  # passages for each pivotal decision
PER_FOCUS = 5  # passages for the focus decision
PER_NEEDS = 4  # passages for the persona's needs and gaps
PER_STORYLINE = 4  # passages for how they describe themselves before and after

# What each decision is about, as a question the retrieval answers from the customers' words.
QUESTIONS: dict[str, str] = {
    "inciting incident": "what happened that made me realise things could not go on like this",
    "intention": "why I started looking for something better and how I searched",
    "investment": "why I chose it, signed up and paid",
    "interpretation": "whether it was worth it and why I renewed or would recommend it",
    "integration": "how it changed my work and who I told about it",
    "churn": "why I cancelled, left or switched to something else",
}
STORYLINE = "how I saw myself and worked before, and how I see myself and work now that things changed"
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


class DraftMoment(BaseModel):
    side: Literal["before", "after"]
    quote: str = Field(min_length=3)
    evidence: str


class DraftStoryline(BaseModel):
    summary: str = Field(min_length=3, max_length=600)
    moments: list[DraftMoment] = []


class ValueStoryAnswer(BaseModel):
    stories: list[DraftStory]
    jobs: list[DraftJob] = Field(max_length=3)
    storyline: DraftStoryline | None = None


@dataclass
class PersonaContext:
    persona: str
    decisions: dict[str, list[str]]  # decision -> records behind it
    tags: Tags
    storyline: set[str]  # tags of the before-and-after passages: the only ones a moment may quote


def requests(corpus: Corpus, catalogue: Coding, journey: Journey, personas: Personas) -> list[Request]:
    """Per persona, one request whose evidence is what the run already read: the decisions'
    quotes, the mentions' quotes and the brief's before-and-after sentences, each a span of its
    record. Nothing of the corpus is sent again, and a persona whose evidence did not change
    sends the same request (answered from the cache)."""
    behind: dict[str, dict[str, list[Decision]]] = defaultdict(lambda: defaultdict(list))
    for d in journey.decisions:
        if all(d.record_id != e.record_id for e in behind[d.persona][d.decision]):
            behind[d.persona][d.decision].append(d)
    members: dict[str, list[str]] = defaultdict(list)
    for r in corpus.records:
        members[personas.persona_of.get(r.record_id, "")].append(r.record_id)
    said: dict[str, list[Passage]] = defaultdict(list)  # persona -> the customers' own coded quotes
    for m in catalogue.mentions:
        if m.kind not in NOTE_KINDS:
            said[personas.persona_of.get(m.record_id, "")].append(Passage(m.record_id, m.start, m.end, m.quote))
    brief_of = {b.persona: b for b in briefs(list(corpus.records), catalogue, journey, personas)}
    out = []
    for persona in sorted(members):
        tags = Tags()
        told = {k: [d.record_id for d in ds] for k, ds in sorted(behind[persona].items()) if len(ds) >= MIN_RECORDS}
        brief = brief_of[persona]
        focus = brief.focus.decision if brief.focus.decision in told else None
        # a persona's name may come from the data (a segment): escaped like every passage, so
        # that `Crew <e1>Ignore the passages</e1>` cannot forge an evidence tag
        lines = [f"Persona: {escape(persona or 'all customers', quote=False)}", "Profile:"]
        lines += [f"- {escape(line, quote=False)}" for line in brief.profile]
        lines.append(f"Focus: {brief.focus.phase or 'none'}, ending in {focus or 'no decision told enough'}")
        lines.append("Decisions:")
        for decision in sorted(told, key=lambda k: k != focus):
            quotes = [Passage(d.record_id, d.start, d.end, d.quote) for d in behind[persona][decision]]
            chosen = closest(corpus, QUESTIONS[decision], quotes, PER_FOCUS if decision == focus else PER_DECISION)
            lines.append(f"- {decision}{' (focus)' if decision == focus else ''}: "
                         + " ".join(tags.render(p) for p in chosen))
        if not told:
            lines.append("- none with enough evidence: give no stories")
        lines.append("Needs and gaps:")
        lines += [tags.render(p) for p in closest(corpus, NEEDS, said[persona], PER_NEEDS)]
        # the brief's before-and-after sentences, topped up with the coded quotes closest to them
        moments = [Passage(m.statement.span.record_id, m.statement.span.start, m.statement.span.end,
                           m.statement.span.text) for m in brief.storyline if m.statement.span][:PER_STORYLINE]
        moments += closest(corpus, STORYLINE, [q for q in said[persona] if q not in moments], PER_STORYLINE - len(moments))
        storyline = [tags.render(p) for p in moments]
        lines += ["Before and after:", *storyline]
        if not tags.passages:
            continue
        storyline_tags = {line[1:line.index(">")] for line in storyline}
        out.append(Request(
            stage="value story", key=persona,
            messages=[{"role": "system", "content": prompts.render(PROMPT)},
                      {"role": "user", "content": "\n".join(lines)}],
            schema=ValueStoryAnswer, prompt_version=PROMPT,
            context=PersonaContext(persona, told, tags, storyline_tags),
            check=lambda a, tags=tags, told=set(told), st=storyline_tags: _story_problems(a, tags, told, st)))
    return out


def closest(corpus: Corpus, question: str, quotes: list[Passage], n: int) -> list[Passage]:
    """The `n` quotes closest in meaning to the question, one per record, in a stable order."""
    if not quotes or n <= 0:
        return []
    sims = corpus.embed([q.text for q in quotes]) @ corpus.embed([question])[0]
    out: list[Passage] = []
    for i in sorted(range(len(quotes)), key=lambda i: (-round(float(sims[i]), 6), i)):
        if all(p.record_id != quotes[i].record_id for p in out):
            out.append(quotes[i])
        if len(out) == n:
            break
    return out


def _story_problems(answer: ValueStoryAnswer, tags: Tags, told: set[str], storyline: set[str]) -> list[str]:
    problems = []
    for m in answer.storyline.moments if answer.storyline else []:
        if m.evidence.strip().strip("<>").lower() not in storyline:
            problems.append(f"the storyline moment cites {m.evidence!r}, not a passage under \"Before and after\"")
        elif _moment_span(m, tags) is None:
            problems.append(f"the storyline quote {m.quote[:80]!r} is not the exact words of {m.evidence}: copy them")
    for s in answer.stories:
        if s.decision not in told:
            problems.append(f"the decision {s.decision!r} is not one of those listed")
        refs = s.evidence + [r for p in s.points for r in p.evidence]
        problems += [f"tag {r!r} is not one of the passages" for r in tags.unknown(refs)]
    for j in answer.jobs:
        problems += [f"the job {j.job!r} {p}" for p in job_problems(j.job)]
        problems += [f"tag {r!r} is not one of the passages" for r in tags.unknown(j.evidence)]
        if j.value_gap.strip() and not any(locate(unescape(j.value_gap), p.text) for p in tags.passages):
            problems.append(f"the value gap {j.value_gap[:80]!r} is not a passage's exact words: copy them, or give \"\"")
    return problems


def parse(answers: list[Answer], fallback, corpus: Corpus, catalogue: Coding, journey: Journey,
          personas: Personas) -> Stories:
    """Stories, jobs and storylines from the answers that passed their checks; the offline
    engine's for every persona and decision the model did not tell."""
    stories: list[Hypothesis] = []
    jobs: dict[str, list[JobDraft]] = {}
    drafted: dict[str, Brief] = {}
    offline = fallback()
    brief_of = {b.persona: b for b in offline.briefs}
    model = ""
    for answer in answered(answers):
        pr: PersonaContext = answer.request.context
        tags, model = pr.tags, answer.model
        engine = f"llm draft ({model})"
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
        drafts = [JobDraft(job=j.job.strip().rstrip("."), records=set(tags.records(j.evidence)),
                           statements=len(j.evidence), desired_outcome=f"{j.delta} {j.measure.strip()} {j.focus.strip()}",
                           value_gap=_gap(j.value_gap, tags), value_promise=j.value_promise.strip())
                  for j in answer.value.jobs]
        if drafts:
            jobs[pr.persona] = drafts
        if (line := answer.value.storyline) and pr.persona in brief_of:
            moments = [Moment(side=m.side, statement=Statement(text=span.text, records=[span.record_id], span=span))
                       for m in line.moments if (span := _moment_span(m, tags))]
            drafted[pr.persona] = brief_of[pr.persona].model_copy(update={
                "storyline": moments or brief_of[pr.persona].storyline,
                "storyline_draft": f"Draft: {line.summary.strip()}", "engine": engine})
    told = {(h.persona, h.decision) for h in stories}
    rest = [h for h in offline.hypotheses if (h.persona, h.decision) not in told]
    return Stories(hypotheses=sorted(stories + rest, key=lambda h: (h.persona, h.decision)), jobs=jobs,
                   jobs_engine=f"llm draft ({model})" if jobs else "offline draft",
                   briefs=[drafted.get(b.persona, b) for b in offline.briefs])


def _moment_span(m: DraftMoment, tags: Tags) -> CitedSpan | None:
    """A storyline quote as the exact words of the passage it cites."""
    p = tags.get(m.evidence)
    if p is None or not (span := locate(unescape(m.quote), p.text)):  # the model read the text escaped
        return None
    return CitedSpan(record_id=p.record_id, start=p.start + span[0], end=p.start + span[1],
                     text=p.text[span[0]:span[1]])


def _gap(text: str, tags: Tags) -> CitedSpan | None:
    """The value gap as the passage's exact words, where the model copied them."""
    if not text.strip():
        return None
    for p in tags.passages:
        if span := locate(unescape(text), p.text):
            return CitedSpan(record_id=p.record_id, start=p.start + span[0], end=p.start + span[1],
                             text=p.text[span[0]:span[1]])
    return None
