"""Stage 7, roles: how well the company plays its role in each phase, per persona.

Transformational roles, one per phase, each aiming at a target story; transactional roles
Provider (before the investment) and Enabler (after). The assessment is computed from the
phase's mentions — their mean sentiment and how often touchpoints did their job — and says
which touchpoints support the target story and which undermine it. It is a draft for a
researcher to judge, and says so.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .artefacts import Coding, Journey, RoleAssessment, Roles
from .contract import Stage, stages
from .journey import PHASES

ROLES = {"Imbalance": ("Empathizer", "Hopeful", "Provider"), "Challenge": ("Storyteller", "Aspirational", "Provider"),
         "Engagement": ("Guide", "Meaningful", "Enabler"), "Transformation": ("Partner", "Consistent", "Enabler")}


PLAYS_WELL = 0.25  # mean sentiment of a phase at or above which the company plays its role well
FALLS_SHORT = 0.0  # below this it falls short; in between it plays it partly
TOUCHPOINT_LEAN = 0.15  # a touchpoint this positive supports the target story, this negative undermines it
MIN_TOUCHPOINT_MENTIONS = 2


def verdict(strength: float | None) -> str:
    """The one verdict rule, for the export and the report alike."""
    if strength is None:
        return "too little evidence"
    return "plays it well" if strength >= PLAYS_WELL else "plays it partly" if strength >= FALLS_SHORT else "falls short"


def assess_roles(placed: list[tuple[str, str, str, float, bool | None]]) -> list[RoleAssessment]:
    """`placed`: (persona, phase, touchpoint, sentiment, did_job) for every mention."""
    grouped: dict[tuple[str, str], list[tuple[str, float, bool | None]]] = defaultdict(list)
    for persona, phase, touchpoint, sentiment, did_job in placed:
        if phase in ROLES:
            grouped[(persona, phase)].append((touchpoint, sentiment, did_job))
    out = []
    for persona in sorted({p for p, _ in grouped}):
        for phase in PHASES:
            role, target, transactional = ROLES[phase]
            items = grouped.get((persona, phase), [])
            by_tp: dict[str, list[float]] = defaultdict(list)
            for tp, s, _ in items:
                by_tp[tp].append(s)
            means = {tp: float(np.mean(v)) for tp, v in by_tp.items() if len(v) >= MIN_TOUCHPOINT_MENTIONS}
            support = [tp for tp, m in sorted(means.items(), key=lambda kv: -kv[1]) if m >= TOUCHPOINT_LEAN][:3]
            undermine = [tp for tp, m in sorted(means.items(), key=lambda kv: kv[1]) if m <= -TOUCHPOINT_LEAN][:3]
            strength = round(float(np.mean([s for _, s, _ in items])), 3) if items else None
            known = [d for _, _, d in items if d is not None]
            out.append(RoleAssessment(
                persona=persona, phase=phase, role=role, transactional_role=transactional, target_story=target,
                assessment=_words(role, target, strength, known, len(items), support, undermine),
                strength=strength, mentions=len(items), supporting_touchpoints=support,
                undermining_touchpoints=undermine))
    return out


def _words(role, target, strength, known, n, support, undermine) -> str:
    if not n:
        return f"No evidence in this phase: the data says nothing about the company as {role}."
    level = verdict(strength)
    worked = f"; touchpoints did their job in {sum(known)}/{len(known)} mentions that say" if known else ""
    text = (f"Draft: as {role}, the company {level} (mean sentiment {strength:+.2f} over {n} mentions{worked}) "
            f"against {'an' if target[0] in 'AEIOU' else 'a'} {target.lower()} target story.")
    if support:
        text += f" Supporting: {', '.join(support)}."
    if undermine:
        text += f" Undermining: {', '.join(undermine)}."
    return text


def roles(catalogue: Coding, journey: Journey) -> Roles:
    return Roles(roles=assess_roles([(p.persona, p.phase, m.touchpoint, m.sentiment, m.did_job)
                                     for m, p in zip(catalogue.mentions, journey.placements, strict=True)]))


STAGE = stages.register("roles")(Stage(
    name="roles", needs=("catalogue", "journey"), produces=Roles, version="roles.1", offline=roles))
