"""The audit's findings, computed from a run over the owner's touchpoints: pure, from the
run's artefacts and the owner's answers, so the web page and the CLI show the same."""

from __future__ import annotations

from collections import Counter, defaultdict

from valuestory.pipeline.artefacts import Coding, Journey, Mention, Opportunities, Scorecard
from valuestory.pipeline.journey import PHASES

from .businesses import TYPES
from .ideas import AuditIdea, ideas
from .state import AuditState, Change, Findings, Missing, Scored

# What each pivotal decision is, in an owner's words.
MOMENTS = {"investment": "buy", "interpretation": "come back", "integration": "recommend", "churn": "leave"}
FIX_FIRST = 3
GAP_SHOWN = 3
MISSING_QUOTES = 2
MIN_MISSING_RECORDS = 1


def to_scale(emotional: float) -> float:
    """Emotional impact (-1..1) on the owner's 1-5 scale."""
    return round(3 + 2 * emotional, 1)


def findings(state: AuditState, coding: Coding, scores: Scorecard, journey: Journey, records: int,
             opportunities: Opportunities | None = None, engine: str = "offline") -> Findings:
    listed = state.listed()
    names = {t.name for t in listed}
    by_tp: dict[str, list[Mention]] = defaultdict(list)
    phases: dict[str, Counter] = defaultdict(Counter)
    for m, p in zip(coding.mentions, journey.placements, strict=True):
        by_tp[m.touchpoint].append(m)
        if p.phase != "unknown":
            phases[m.touchpoint][p.phase] += 1
    moments: dict[str, Counter] = defaultdict(Counter)
    for d in journey.decisions:
        if d.decision in MOMENTS:
            for t in d.touchpoints:
                moments[t][MOMENTS[d.decision]] += 1
    overall = {s.touchpoint: s for s in scores.scores if s.scope == "overall"}
    scored = []
    for i, t in enumerate(listed):
        s, ms = overall.get(t.name), by_tp.get(t.name, [])
        own = t.rating
        source = "data" if ms else "owner" if any(v is not None for v in own.model_dump().values()) else "none"
        emotional = s.emotional_impact if s else None
        negative = min(ms, key=lambda m: m.sentiment, default=None)
        positive = max(ms, key=lambda m: m.sentiment, default=None)
        told = emotional.value if emotional is not None and emotional.value is not None else None
        gap = round(t.view - to_scale(told), 1) if t.view is not None and told is not None else None
        scored.append((i, Scored(
            name=t.name, phase=phases[t.name].most_common(1)[0][0] if phases[t.name] else "unknown", source=source,
            mentions=len(ms), records=len({m.record_id for m in ms}),
            functional_said=sum(m.did_job is not None for m in ms),
            **({"emotional": s.emotional_impact, "functional": s.functional_performance, "frequency": s.frequency,
                "business_impact": s.business_impact, "stars": s.rating_impact, "stars_mentioners": s.rating_mentioners,
                "stars_others": s.rating_others, "stars_rated": s.rated_mentioners, "stars_scale": s.rating_scale}
               if s else {}),
            rating=own, view=t.view, gap=gap, effort=t.definition.effort, decisions=dict(moments[t.name]),
            worst=negative.span if negative is not None and negative.sentiment < 0 else None,
            best=positive.span if positive is not None and positive.sentiment > 0 else None)))
    # The owner's list is in the order customers meet the touchpoints (the library's is); a
    # phase the data places a touchpoint in moves it, where the data places it at all.
    order = {ph: k for k, ph in enumerate(PHASES)}
    placed = [order[s.phase] for _, s in scored if s.phase in order]
    middle = sorted(placed)[len(placed) // 2] if placed else 0
    scored.sort(key=lambda item: (order.get(item[1].phase, middle), item[0]))
    shown = [s for _, s in scored]
    return Findings(
        records=records, touchpoints=shown, missing=_missing(state, by_tp, coding),
        unmentioned=[t.name for t in listed if not by_tp.get(t.name)],
        gaps=[s.name for s in sorted((s for s in shown if s.gap is not None and s.gap > 0), key=lambda s: -s.gap)]
        [:GAP_SHOWN],
        easy_fixes=_easy(shown), fix_first=(first := _fix_first(shown, scores, names)),
        ideas={tp: _ideas(tp, coding.mentions, state, opportunities) for tp in first},
        changes=_changes(state, shown), engine=engine)


def _missing(state: AuditState, by_tp: dict[str, list[Mention]], coding: Coding) -> list[Missing]:
    """What customers talk about that the owner did not list: library touchpoints they removed
    (still matched) and recurring themes none of the touchpoints covers."""
    out = []
    for t in state.touchpoints:
        ms = by_tp.get(t.name, [])
        if not t.listed and len({m.record_id for m in ms}) >= MIN_MISSING_RECORDS:
            surest = sorted(ms, key=lambda m: -m.confidence)  # the clearest mentions first
            quotes = list({m.record_id: m.span for m in reversed(surest)}.values())[::-1][:MISSING_QUOTES]
            out.append(Missing(name=t.name, records=len({m.record_id for m in ms}), quotes=quotes))
    out += [Missing(name=e.theme, records=len(e.records), quotes=e.quotes[:MISSING_QUOTES]) for e in coding.emerging]
    return sorted(out, key=lambda m: -m.records)


def _easy(shown: list[Scored]) -> list[str]:
    """Touchpoints customers feel negative about that are usually easy to improve; by the
    owner's rating where there is no data."""
    def negative(s: Scored) -> float | None:
        if s.emotional.value is not None:
            return s.emotional.value
        return (s.rating.emotional - 3) / 2 if s.rating.emotional is not None else None
    easy = [(v, s.name) for s in shown if s.effort == "low" and (v := negative(s)) is not None and v < 0]
    return [name for _, name in sorted(easy)]


def _fix_first(shown: list[Scored], scores: Scorecard, names: set[str]) -> list[str]:
    """The scorecard's priority among the owner's touchpoints with data; the owner's own
    ratings (poor experience, high business importance) fill in where data is thin."""
    ranked = [s.touchpoint for s in sorted((s for s in scores.scores if s.scope == "overall" and s.rank),
                                           key=lambda s: s.rank) if s.touchpoint in names]
    rated = sorted((s.rating.emotional - (s.rating.business or 3), s.name) for s in shown
                    if s.source == "owner" and s.rating.emotional is not None and s.rating.emotional <= 2)
    return list(dict.fromkeys(ranked + [name for _, name in rated]))[:FIX_FIRST]


def _ideas(touchpoint: str, mentions: list[Mention], state: AuditState,
           opportunities: Opportunities | None) -> list[AuditIdea]:
    """A model's drafts where one ran and drafted the touchpoint; the library's otherwise."""
    drafted = [o for o in (opportunities.items if opportunities else []) if o.touchpoint == touchpoint
               and o.engine.startswith("llm")]
    if drafted:
        return [AuditIdea(touchpoint=touchpoint, rank=o.rank, friction=o.friction or "drafted", hypothesis=o.hypothesis,
                          change=o.change, time="", money="", who=o.resources, measure=o.success_measure,
                          risk=o.unintended_consequences, quotes=o.quotes) for o in drafted]
    return ideas(touchpoint, mentions, state.business_type, TYPES[state.business_type].staff)


def _changes(state: AuditState, shown: list[Scored]) -> list[Change]:
    """Against the last saved quarter: each touchpoint's emotional impact then and now."""
    if not state.history:
        return []
    before = state.history[-1].emotional
    now = {s.name: s.emotional.value for s in shown if s.emotional.value is not None}
    return [Change(touchpoint=t, before=before.get(t), now=now.get(t))
            for t in sorted(set(before) | set(now)) if before.get(t) != now.get(t)]
