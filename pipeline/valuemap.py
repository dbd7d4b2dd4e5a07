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
from pydantic import BaseModel

from valuestory.records import Record

from .library import TouchpointDef
from .mentions import Mention, clauses
from .opportunities import COMPILED as FRICTION, Opportunity

# Goals, not chores: "I had to re-type everything" is friction, not a job.
JOB = re.compile(r"\b(?:i|we)(?: really| just| only| still)? (?:needed|need|wanted|want|were trying|was trying|tried|"
                 r"would like|'d like|hoped|hope)"
                 r"(?: a way| something| someone)? to ([a-z][^.;!?]{6,90})", re.I)
SOLUTION = re.compile(r"\b(?:app|software|tool|platform|system|feature|button|integration|dashboard|website|"
                      r"crm|spreadsheet|plugin|subscription)s?\b", re.I)
FORBIDDEN = re.compile(r"^(?:maintain|support|help|manage|use|try|buy|get (?:it|this|that)|look|find (?:it|out)|say|be|do it)\b", re.I)
GAP = re.compile(r"\b(?:i|we) (?:can't|cannot|couldn't|could not|have no way to|had no way to|am unable to|are unable to)\b", re.I)
EMPATHY = {
    "thinks": r"\b(?:i|we) (?:think|thought|knew|wonder(?:ed)?|figured|believe|felt like|realized)\b",
    "feels": r"\b(?:frustrat|annoy|angry|furious|love|happy|relieved|worried|scared|embarrass|stress|exhaust|proud|calm|hurt|sting)\w*",
    "hears": r"\b(?:told me|told us|said|heard|recommended|people say|friend|review)\w*",
    "sees": r"\b(?:i|we) (?:saw|see|noticed|watched)\b|\blooks? (?:like|professional|sharp)|showed",
    "does": r"\b(?:i|we) (?:check|send|sent|call|called|spend|spent|use|used|do|did|drag|quote|invoice|type|typed)\b",
}
EMPATHY_RE = {k: re.compile(p, re.I) for k, p in EMPATHY.items()}
DELTA = {"waiting": "Minimize the time it takes to", "failure": "Minimize the likelihood of errors when trying to",
         "effort": "Minimize the effort it takes to", "cost": "Minimize the cost of being able to",
         "confusion": "Minimize the uncertainty when trying to", "availability": "Minimize the time without help when trying to"}


class Job(BaseModel):
    job: str
    desired_outcome: str
    key_touchpoints: list[str]
    high_points: list[str]
    friction: list[str]
    value_gap: str
    internal_processes: list[str]
    opportunities: list[str]
    value_promise: str
    evidence: list[str]
    statements: int  # how many customer sentences express it


class ValueMap(BaseModel):
    persona: str
    empathy_map: dict[str, list[str]]
    jobs: list[Job]
    engine: str = "offline draft"


def job_statement(text: str) -> str | None:
    """'I needed a way to get paid on the spot, honestly' -> 'Get paid on the spot'; None
    when it names a solution or is too vague to be a job."""
    m = JOB.search(text)
    if not m:
        return None
    job = re.split(r",|\bbecause\b|\bbut\b|\band then\b|\bso\b", m.group(1))[0].strip()
    words = job.split()
    if len(words) < 2 or len(words) > 12 or SOLUTION.search(job) or FORBIDDEN.match(job) or \
            re.search(r"\byour?\b", job, re.I):
        return None
    return job[0].upper() + job[1:]


def is_valid_job(job: str) -> bool:
    return bool(job) and not SOLUTION.search(job) and not FORBIDDEN.match(job) and 2 <= len(job.split()) <= 12


def build_value_maps(records: list[Record], mentions: list[Mention], persona_of: dict[str, str],
                     touchpoints: list[TouchpointDef], opportunities: list[Opportunity], embed,
                     max_jobs: int = 3) -> list[ValueMap]:
    owners = {t.name: t.owner for t in touchpoints}
    by_record: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_record[m.record_id].append(m)
    personas: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        personas[persona_of.get(r.record_id, "")].append(r)
    maps = []
    for persona, recs in sorted(personas.items()):
        persona_clauses = [c for r in recs for c in clauses(r)]
        empathy = {k: [c.text for c in persona_clauses if pattern.search(c.text)][:4] for k, pattern in EMPATHY_RE.items()}
        empathy["says"] = [m.quote for r in recs for m in by_record[r.record_id] if abs(m.sentiment) >= 0.5][:4]
        found = [(j, c) for c in persona_clauses if (j := job_statement(c.text))]
        gaps = [c for c in persona_clauses if GAP.search(c.text)]
        gap_vectors = embed([c.text for c in gaps]) if gaps else None
        jobs = []
        for group in _group_jobs(found, embed)[:max_jobs]:
            name = Counter(j for j, _ in group).most_common(1)[0][0]
            ids = {c.record_id for _, c in group}
            related = [m for i in ids for m in by_record[i]]
            tps = [t for t, _ in Counter(m.touchpoint for m in related).most_common(3)]
            high = [f"{m.touchpoint}: “{m.quote}”" for m in sorted(related, key=lambda m: -m.sentiment)[:2] if m.sentiment > 0.2]
            low = sorted((m for m in related if m.sentiment < -0.2), key=lambda m: m.sentiment)
            friction = [f"{m.touchpoint}: “{m.quote}”" for m in low[:3]]
            kinds = Counter(k for m in low for k, p in FRICTION.items() if p.search(m.quote) and k in DELTA)
            delta = DELTA[kinds.most_common(1)[0][0]] if kinds else "Increase the likelihood of being able to"
            outcome = f"{delta} {name[0].lower()}{name[1:]}"
            gap = next((c.text for c in gaps if c.record_id in ids), "")
            if not gap and gaps:  # else the "I can't" sentence closest in meaning to the job
                gap = gaps[int(np.argmax(gap_vectors @ embed([name])[0]))].text
            friction_tps = list(dict.fromkeys(m.touchpoint for m in low))
            jobs.append(Job(
                job=name, desired_outcome=f"Draft: {outcome}", key_touchpoints=tps, high_points=high,
                friction=friction, value_gap=gap,
                internal_processes=sorted({owners[t] for t in friction_tps if owners.get(t)}),
                opportunities=[o.hypothesis for o in opportunities if o.touchpoint in friction_tps][:3],
                value_promise=f"Draft: for {persona or 'these customers'}, {name[0].lower()}{name[1:]} — "
                              f"{outcome[0].lower()}{outcome[1:]}.",
                evidence=sorted(ids), statements=len(group)))
        maps.append(ValueMap(persona=persona, empathy_map=empathy, jobs=jobs))
    return maps


def _group_jobs(found: list[tuple[str, object]], embed, threshold: float = 0.8) -> list[list]:
    """Job statements meaning the same thing together, largest groups first: the same verb
    and object ('get paid on the spot', 'get paid faster'), or close in meaning."""
    if not found:
        return []
    vectors = embed([j for j, _ in found])
    groups: list[list] = []
    centres: list[np.ndarray] = []
    heads: list[str] = []
    for item, v in zip(found, vectors, strict=True):
        head = " ".join(item[0].lower().split()[:2])
        sims = [float(c @ v) for c in centres]
        target = heads.index(head) if head in heads else (int(np.argmax(sims)) if sims and max(sims) >= threshold else None)
        if target is None:
            groups.append([item])
            centres.append(v)
            heads.append(head)
        else:
            groups[target].append(item)
    return sorted(groups, key=len, reverse=True)
