"""Roles offline: how well the company plays its role in each phase, per persona.

Transformational roles, one per phase, each aiming at a target story; transactional roles
Provider (before the investment) and Enabler (after). The assessment is computed from the
phase's mentions — their mean sentiment and how often touchpoints did their job — with a
verdict only above a minimum of evidence, the customers' quotes for and against (those that
say what the company did in the role first), and which touchpoints support the target story
and which undermine it. It is a draft for a researcher to judge, and says so.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from ..artefacts import CitedSpan, Coding, Journey, Mention, RoleAssessment, Roles
from ..journey import PHASES
from ..text import NOTE_KINDS

ROLES = {"Imbalance": ("Empathizer", "Hopeful", "Provider"), "Challenge": ("Storyteller", "Aspirational", "Provider"),
         "Engagement": ("Guide", "Meaningful", "Enabler"), "Transformation": ("Partner", "Consistent", "Enabler")}


PLAYS_WELL = 0.25  # mean sentiment of a phase at or above which the company plays its role well
FALLS_SHORT = 0.0  # below this it falls short; in between it plays it partly
TOUCHPOINT_LEAN = 0.15  # a touchpoint this positive supports the target story, this negative undermines it
MIN_TOUCHPOINT_MENTIONS = 2
# A verdict needs this much evidence: a phase's mean of three mentions is nobody's judgement.
MIN_VERDICT_MENTIONS = 6
MIN_VERDICT_RECORDS = 3
QUOTES = 3  # cited quotes for and against, each from its own record
# What customers say the company did in each role: understood them, showed them a future they
# believe, guided them to value, partnered with them. Quotes that say so are cited first.
ROLE_CUES = {
    "Empathizer": r"\b(?:understood|listened|got (?:it|me|us)|knew (?:what|exactly)|cared|asked (?:me|us) about|"
                  r"made (?:me|us) feel (?:heard|understood))\b",
    "Storyteller": r"\b(?:showed (?:me|us)|could see|imagine|picture|believ\w+|promis\w+|demo\w*|trial|"
                   r"convinc\w+|sold (?:me|us) on)\b",
    "Guide": r"\b(?:helped|walked (?:me|us) through|showed (?:me|us) how|set (?:it|us|me) up|onboard\w*|train\w*|"
             r"guided|explained|support\w*)\b",
    "Partner": r"\b(?:partner\w*|always there|(?:has|had) (?:my|our) back|grow\w* with|roadmap|account manager|"
               r"listened to (?:my|our)|(?:my|our) (?:feedback|request)|relationship)\b",
}
COMPILED_ROLES = {role: re.compile(p, re.I) for role, p in ROLE_CUES.items()}


def verdict(strength: float | None, mentions: int | None = None, records: int | None = None) -> str:
    """The one verdict rule, for the export and the report alike: none below the minimum of
    evidence."""
    if strength is None:
        return "too little evidence"
    if mentions is not None and (mentions < MIN_VERDICT_MENTIONS or (records or 0) < MIN_VERDICT_RECORDS):
        return "not enough evidence"
    return "plays it well" if strength >= PLAYS_WELL else "plays it partly" if strength >= FALLS_SHORT else "falls short"


def assess_roles(placed: list[tuple[str, str, Mention]]) -> list[RoleAssessment]:
    """`placed`: (persona, phase, mention) for every mention."""
    grouped: dict[tuple[str, str], list[Mention]] = defaultdict(list)
    for persona, phase, mention in placed:
        if phase in ROLES:
            grouped[(persona, phase)].append(mention)
    out = []
    for persona in sorted({p for p, _ in grouped}):
        for phase in PHASES:
            role, target, transactional = ROLES[phase]
            items = grouped.get((persona, phase), [])
            by_tp: dict[str, list[float]] = defaultdict(list)
            for m in items:
                by_tp[m.touchpoint].append(m.sentiment)
            means = {tp: float(np.mean(v)) for tp, v in by_tp.items() if len(v) >= MIN_TOUCHPOINT_MENTIONS}
            support = [tp for tp, m in sorted(means.items(), key=lambda kv: -kv[1]) if m >= TOUCHPOINT_LEAN][:3]
            undermine = [tp for tp, m in sorted(means.items(), key=lambda kv: kv[1]) if m <= -TOUCHPOINT_LEAN][:3]
            strength = round(float(np.mean([m.sentiment for m in items])), 3) if items else None
            records = len({m.record_id for m in items})
            known = [m.did_job for m in items if m.did_job is not None]
            said = verdict(strength, len(items), records)
            out.append(RoleAssessment(
                persona=persona, phase=phase, role=role, transactional_role=transactional, target_story=target,
                assessment=_words(role, target, strength, said, known, len(items), records, support, undermine),
                strength=strength, mentions=len(items), records=records, verdict=said,
                supporting_touchpoints=support, undermining_touchpoints=undermine,
                supporting_quotes=_quotes(items, role, positive=True),
                undermining_quotes=_quotes(items, role, positive=False)))
    return out


def _quotes(items: list[Mention], role: str, positive: bool) -> list[CitedSpan]:
    """The strongest quotes for (or against) the role, those that say what the company did in
    it first; one per record."""
    sign = 1 if positive else -1
    leaning = [m for m in items if sign * m.sentiment > 0 and m.kind not in NOTE_KINDS]  # customers' own words
    ranked = sorted(leaning, key=lambda m: (not COMPILED_ROLES[role].search(m.quote), -sign * m.sentiment))
    out, seen = [], set()
    for m in ranked:
        if m.record_id not in seen:
            out.append(CitedSpan(record_id=m.record_id, start=m.start, end=m.end, text=m.quote))
            seen.add(m.record_id)
        if len(out) == QUOTES:
            break
    return out


def _words(role, target, strength, said, known, n, records, support, undermine) -> str:
    if not n:
        return f"No evidence in this phase: the data says nothing about the company as {role}."
    worked = f"; touchpoints did their job in {sum(known)}/{len(known)} mentions that say" if known else ""
    if said == "not enough evidence":
        return (f"Not enough evidence for a verdict on the company as {role}: {n} mentions from {records} records "
                f"(a verdict needs {MIN_VERDICT_MENTIONS} from {MIN_VERDICT_RECORDS}); the quotes are shown as they are.")
    text = (f"Draft: as {role}, the company {said} (mean sentiment {strength:+.2f} over {n} mentions from {records} "
            f"records{worked}) against {'an' if target[0] in 'AEIOU' else 'a'} {target.lower()} target story.")
    if support:
        text += f" Supporting: {', '.join(support)}."
    if undermine:
        text += f" Undermining: {', '.join(undermine)}."
    return text


def roles(catalogue: Coding, journey: Journey) -> Roles:
    return Roles(roles=assess_roles([(p.persona, p.phase, m)
                                     for m, p in zip(catalogue.mentions, journey.placements, strict=True)]))
