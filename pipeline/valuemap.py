"""Stage 8, the customer value map, per persona: an empathy map and one to three jobs.

Offline, everything is assembled from the customers' words: jobs from their own "I needed to
… / we wanted to …" sentences (verb + object + circumstance, no solution in it, never
maintain/support/help/manage), the value gap from their "I can't …" sentences, touchpoints,
high points and friction from the mentions. Desired outcomes and the value promise are
phrased from the job and the friction customers report; they are drafts, and say so.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np

from valuestory.records import Record

from .artefacts import (
    CitedItem,
    Coding,
    Job,
    JobDraft,
    Mention,
    Opportunities,
    Opportunity,
    Personas,
    Stories,
    TouchpointDef,
    ValueMap,
    ValueMaps,
)
from .contract import Corpus, Stage, stages
from .jobs import cannot_job, job_statement
from .opportunities.offline import COMPILED as FRICTION
from .text import NOTE_KINDS, clauses, group_similar

MAX_JOBS = 3
JOB_MENTIONS = 6  # a job's key touchpoints come from its this many closest mentions
SIMILARITY_DIGITS = 4
EMPATHY_ENTRIES = 4  # quotes per empathy-map quadrant
EMPATHY_WORDS = 4  # a few words are not a glimpse of anyone's world: "We did" says nothing
SAYS_STRENGTH = 0.5  # what they say: their most strongly felt mentions
HIGH_POINT, LOW_POINT = 0.2, -0.2  # sentiment beyond which a mention is a high point or friction
JOB_SIMILARITY = 0.8  # two job statements this close in meaning are one job

GAP_SIMILARITY = 0.3  # another record's "I can't" sentence must be this close to the job to stand as its gap
GAP = re.compile(r"\b(?:i|we) (?:can't|cannot|couldn't|could not|have no way to|had no way to|am unable to|"
                 r"are unable to)\b", re.I)
EMPATHY = {
    "thinks": r"\b(?:i|we) (?:think|thought|knew|wonder(?:ed)?|figured|believe|felt like|realized)\b",
    "feels": r"\b(?:frustrat|annoy|angry|furious|love|happy|relieved|worried|scared|embarrass|stress|exhaust|proud|calm|"
             r"hurt|sting)\w*",
    "hears": r"\b(?:told me|told us|said|heard|recommended|people say|friend|review)\w*",
    "sees": r"\b(?:i|we) (?:saw|see|noticed|watched)\b|\blooks? (?:like|professional|sharp)|showed",
    "does": r"\b(?:i|we) (?:check|send|sent|call|called|spend|spent|use|used|do|did|drag|quote|invoice|type|typed)\b",
}
EMPATHY_RE = {k: re.compile(p, re.I) for k, p in EMPATHY.items()}
DELTA = {"waiting": "Minimize the time it takes to", "failure": "Minimize the likelihood of errors when trying to",
         "effort": "Minimize the effort it takes to", "cost": "Minimize the cost of being able to",
         "confusion": "Minimize the uncertainty when trying to", "availability": "Minimize the time without help when trying to"}


def offline_jobs(persona_clauses: list, embed, max_jobs: int = MAX_JOBS) -> list[JobDraft]:
    """Jobs from the customers' own words: what they say they need or want to do ("I needed
    to …", "so we can …"), and what they say they cannot do ("I can't …"). The most often
    said first; at equal counts, the ones said as goals."""
    found = [(j, c, 1) for c in persona_clauses if (j := job_statement(c.text))]
    found += [(j, c, 0) for c in persona_clauses if not job_statement(c.text) and (j := cannot_job(c.text))]
    groups = sorted(_group_jobs([(j, c) for j, c, _ in found], embed),
                    key=lambda g: (-len(g), -sum(job_statement(c.text) is not None for _, c in g)))
    return [JobDraft(job=Counter(j for j, _ in group).most_common(1)[0][0],
                     records={c.record_id for _, c in group}, statements=len(group))
            for group in groups[:max_jobs]]


def build_value_maps(records: list[Record], mentions: list[Mention], persona_of: dict[str, str],
                     touchpoints: list[TouchpointDef], opportunities: list[Opportunity], embed,
                     drafted: dict[str, list[JobDraft]] | None = None, engine: str = "offline draft",
                     max_jobs: int = MAX_JOBS) -> list[ValueMap]:
    """One map per persona. Jobs are `drafted[persona]` where a model drafted them, else the
    offline engine's; touchpoints, high points, friction and processes always come from the
    mentions of the records behind each job."""
    owners = {t.name: t.owner for t in touchpoints}
    by_record: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_record[m.record_id].append(m)
    personas: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        personas[persona_of.get(r.record_id, "")].append(r)
    maps = []
    for persona, recs in sorted(personas.items()):
        # the customers' own words only: a rep's notes about them are never what they say or feel
        persona_clauses = [c for r in recs if r.kind not in NOTE_KINDS for c in clauses(r) if _telling(c.text)]
        empathy = {k: [c.span for c in persona_clauses if pattern.search(c.text)
                       and len(c.text.split()) >= EMPATHY_WORDS][:EMPATHY_ENTRIES] for k, pattern in EMPATHY_RE.items()}
        empathy["says"] = [m.span for r in recs if r.kind not in NOTE_KINDS for m in by_record[r.record_id]
                           if abs(m.sentiment) >= SAYS_STRENGTH][:EMPATHY_ENTRIES]
        drafts = (drafted or {}).get(persona)
        gaps = [c for c in persona_clauses if GAP.search(c.text)]
        gap_vectors = embed([c.text for c in gaps]) if gaps else None
        jobs = []
        for draft in (drafts if drafts is not None else offline_jobs(persona_clauses, embed, max_jobs))[:max_jobs]:
            name, ids = draft.job, draft.records
            related = _closest(name, [m for i in sorted(ids) for m in by_record[i]], embed)  # ids may be a set
            tps = [t for t, _ in Counter(m.touchpoint for m in related[:JOB_MENTIONS]).most_common(3)]
            own = [m for m in related if m.kind not in NOTE_KINDS]  # quoted as theirs: their words only
            high = [_item(m) for m in _distinct([m for m in own if m.sentiment > HIGH_POINT])[:2]]
            low = [m for m in related if m.sentiment < LOW_POINT]
            friction = [_item(m) for m in _distinct([m for m in low if m.kind not in NOTE_KINDS])[:3]]
            kinds = Counter(k for m in low for k, p in FRICTION.items() if p.search(m.quote) and k in DELTA)
            delta = DELTA[kinds.most_common(1)[0][0]] if kinds else "Increase the likelihood of being able to"
            outcome = draft.desired_outcome or f"{delta} {name[0].lower()}{name[1:]}"
            gap = draft.value_gap
            if not gap and gaps:  # the "I can't" sentence closest to the job: its own records' first
                sims = gap_vectors @ embed([name])[0]
                own = [i for i, c in enumerate(gaps) if c.record_id in ids]
                best = max(own or range(len(gaps)), key=lambda i: sims[i])
                gap = gaps[best].span if own or sims[best] >= GAP_SIMILARITY else None
            promise = draft.value_promise or (f"for {persona or 'these customers'}, {name[0].lower()}{name[1:]} — "
                                              f"{outcome[0].lower()}{outcome[1:]}.")
            friction_tps = list(dict.fromkeys(m.touchpoint for m in low))
            jobs.append(Job(
                job=name, desired_outcome=f"Draft: {outcome}", key_touchpoints=tps, high_points=high,
                friction=friction, value_gap=gap,
                internal_processes=sorted({owners[t] for t in friction_tps if owners.get(t)}),
                opportunities=[o.hypothesis for o in opportunities if o.touchpoint in friction_tps][:3],
                value_promise=f"Draft: {promise}", evidence=sorted(ids), statements=draft.statements))
        maps.append(ValueMap(persona=persona, empathy_map=empathy, jobs=jobs,
                             engine=engine if drafts is not None else "offline draft"))
    return maps


def _telling(text: str) -> bool:
    """Whether a clause can stand in a value map (in its empathy map, as a job or as a value
    gap): only those are kept, where a million responses' every clause held 300 MiB."""
    return bool(GAP.search(text) or any(p.search(text) for p in EMPATHY_RE.values()) or job_statement(text)
                or cannot_job(text))


def _closest(job: str, mentions: list[Mention], embed) -> list[Mention]:
    """A job's mentions, closest in meaning to the job first: two jobs resting on the same
    records still show the evidence of their own job."""
    if len(mentions) < 2:
        return mentions
    # rounded: the same quote under two touchpoints ties exactly, whatever order BLAS sums in
    sims = np.round(embed([m.quote for m in mentions]) @ embed([job])[0], SIMILARITY_DIGITS)
    return [mentions[i] for i in sorted(range(len(mentions)), key=lambda i: (-sims[i], i))]


def _item(m: Mention) -> CitedItem:
    return CitedItem(touchpoint=m.touchpoint, quote=m.span)


def _distinct(mentions: list[Mention]) -> list[Mention]:
    """One per quote: a sentence about two touchpoints is one piece of evidence."""
    return list({m.quote: m for m in reversed(mentions)}.values())[::-1]


def _group_jobs(found: list[tuple[str, object]], embed, threshold: float = JOB_SIMILARITY) -> list[list]:
    """Job statements meaning the same thing together, largest groups first: the same verb
    and object ('get paid on the spot', 'get paid faster'), or close in meaning."""
    if not found:
        return []
    keys = [" ".join(j.lower().split()[:2]) for j, _ in found]
    groups = group_similar(keys, embed([j for j, _ in found]), threshold)
    return sorted(([found[i] for i in g] for g in groups), key=len, reverse=True)


def value_maps(corpus: Corpus, catalogue: Coding, personas: Personas, opportunities: Opportunities,
               stories: Stories) -> ValueMaps:
    return ValueMaps(maps=build_value_maps(
        list(corpus.records), catalogue.mentions, personas.persona_of, catalogue.touchpoints, opportunities.items,
        corpus.embed, stories.jobs or None, stories.jobs_engine))


STAGE = stages.register("valuemap")(Stage(
    name="valuemap", needs=("corpus", "catalogue", "personas", "opportunities", "stories"), produces=ValueMaps,
    version="valuemap.1", offline=value_maps))
