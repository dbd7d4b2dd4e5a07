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
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from valuestory.records import Record

from .library import TouchpointDef
from .mentions import Mention, clauses
from .opportunities import COMPILED as FRICTION, Opportunity

# Goals, not chores: "I had to re-type everything" is friction, not a job.
JOB = re.compile(r"(?:\b(?:i|we)(?: really| just| only| still)? (?:needed|need|wanted|want|were trying|was trying|tried|"
                 r"(?:am|are|'m|'re) trying|would like|'d like|hoped|hope)(?: a way| something| someone)? to|"
                 r"\bso (?:that )?(?:i|we) (?:can|could)|\bthe (?:whole )?(?:point|reason) (?:is|was) to|"
                 r"\ball (?:i|we) (?:want|wanted|need|needed) (?:is|was) to) ([a-z][^.;!?]{6,90})", re.I)
# What customers cannot do names what they are trying to get done: "I can't see which jobs lose money".
CANNOT = re.compile(r"\b(?:i|we) (?:still )?(?:can't|cannot|couldn't|could not|have no way to|had no way to|"
                    r"am unable to|are unable to) ((?!believe|wait|stand|imagine|remember|say|recommend|complain|"
                    r"keep|tell you|afford to|even|get (?:in|into|through)|log|sign|find (?:it|the)|be bothered|"
                    r"(?:figure|work) out how|understand how)"
                    r"[a-z][^.;!?]{6,90})", re.I)
PRODUCT = re.compile(r"\b(?:account|password|login|page|plan|menu|screen|settings?|version|update)s?\b", re.I)
SOLUTION = re.compile(r"\b(?:app|software|tool|platform|system|feature|button|integration|dashboard|website|"
                      r"crm|spreadsheet|plugin|subscription)s?\b", re.I)
FORBIDDEN = re.compile(r"^(?:maintain|support|help|manage|use|try|buy|get (?:it|this|that)|look|find (?:it|out)|say|be|do it)\b", re.I)
GAP_SIMILARITY = 0.3  # another record's "I can't" sentence must be this close to the job to stand as its gap
VAGUE = re.compile(r"\b(?:maintain|support|help|manag)\w*", re.I)
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
    return _job(JOB.search(text))


def cannot_job(text: str) -> str | None:
    """'I can't see revenue per crew without exporting' -> 'See revenue per crew'; None when
    what they cannot do is the product itself (log in, find the page)."""
    job = _job(CANNOT.search(text))
    return None if job is None or PRODUCT.search(job) else job


def _job(m: re.Match | None) -> str | None:
    if not m:
        return None
    job = re.split(r",|\bbecause\b|\bbut\b|\band then\b|\bso\b|\bwithout\b|\bunless\b", m.group(1))[0].strip()
    if not is_valid_job(job) or re.search(r"\byour?\b", job, re.I) or \
            re.search(r"\b(?:this|that|it|them|anymore|again|any more)$", job, re.I):
        return None
    return job[0].upper() + job[1:]


def job_problems(job: str) -> list[str]:
    """Why a job statement is not a job: a job is verb + object + circumstance, with no
    solution in it and none of the empty verbs maintain, support, help, manage."""
    problems = []
    if not 2 <= len(job.split()) <= 12:
        problems.append("is not 2-12 words of verb + object + circumstance")
    if m := SOLUTION.search(job):
        problems.append(f"names a solution ({m.group(0)!r}): say what the customer wants done, not with what")
    if m := VAGUE.search(job):
        problems.append(f"uses {m.group(0)!r}: name what the customer actually does")
    elif FORBIDDEN.match(job):
        problems.append("starts with a vague verb: name what the customer actually does")
    return problems


def is_valid_job(job: str) -> bool:
    return bool(job.strip()) and not job_problems(job)


@dataclass
class JobDraft:
    """A job before the map fills it in from the data: its statement, the records that
    express it, and, when a model drafted it, the outcome, value gap and promise it wrote."""
    job: str
    records: set[str]
    statements: int
    desired_outcome: str = ""
    value_gap: str = ""
    value_promise: str = ""


def offline_jobs(persona_clauses: list, embed, max_jobs: int = 3) -> list[JobDraft]:
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
                     max_jobs: int = 3) -> list[ValueMap]:
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
        persona_clauses = [c for r in recs for c in clauses(r)]
        # a few words are not a glimpse of anyone's world: "We did" says nothing
        empathy = {k: [c.text for c in persona_clauses if pattern.search(c.text) and len(c.text.split()) >= 4][:4]
                   for k, pattern in EMPATHY_RE.items()}
        empathy["says"] = [m.quote for r in recs for m in by_record[r.record_id] if abs(m.sentiment) >= 0.5][:4]
        drafts = (drafted or {}).get(persona)
        gaps = [c for c in persona_clauses if GAP.search(c.text)]
        gap_vectors = embed([c.text for c in gaps]) if gaps else None
        jobs = []
        for draft in (drafts if drafts is not None else offline_jobs(persona_clauses, embed, max_jobs))[:max_jobs]:
            name, ids = draft.job, draft.records
            related = [m for i in ids for m in by_record[i]]
            tps = [t for t, _ in Counter(m.touchpoint for m in related).most_common(3)]
            high = [f"{m.touchpoint}: “{m.quote}”" for m in _distinct(sorted(related, key=lambda m: -m.sentiment))[:2]
                    if m.sentiment > 0.2]
            low = sorted((m for m in related if m.sentiment < -0.2), key=lambda m: m.sentiment)
            friction = [f"{m.touchpoint}: “{m.quote}”" for m in _distinct(low)[:3]]
            kinds = Counter(k for m in low for k, p in FRICTION.items() if p.search(m.quote) and k in DELTA)
            delta = DELTA[kinds.most_common(1)[0][0]] if kinds else "Increase the likelihood of being able to"
            outcome = draft.desired_outcome or f"{delta} {name[0].lower()}{name[1:]}"
            gap = draft.value_gap
            if not gap and gaps:  # the "I can't" sentence closest to the job: its own records' first
                sims = gap_vectors @ embed([name])[0]
                own = [i for i, c in enumerate(gaps) if c.record_id in ids]
                best = max(own or range(len(gaps)), key=lambda i: sims[i])
                gap = gaps[best].text if own or sims[best] >= GAP_SIMILARITY else ""
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


def _distinct(mentions: list[Mention]) -> list[Mention]:
    """One per quote: a sentence about two touchpoints is one piece of evidence."""
    return list({m.quote: m for m in reversed(mentions)}.values())[::-1]


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
