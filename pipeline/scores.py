"""Stage 3, scores: the four dimensions of the touchpoint audit, computed from the data.

Nothing here is asked of a model. Per touchpoint, overall and per source kind:
- emotional impact: mean sentiment of its mentions, with a bootstrap 95% interval;
- functional performance: share of mentions where it did its job (of those that say), with
  a Wilson 95% interval;
- frequency: records and respondents mentioning it, and their share of all records;
- business impact: NPS of respondents who mention it against the rest, and its impact on
  overall NPS (overall NPS minus NPS without its mentioners, so negative means it costs NPS
  points), with bootstrap intervals; where records carry star ratings or CSAT (reviews,
  feedback with a score), the mean rating of its mentioners against the rest, with a
  bootstrap interval of the difference; the lost-deal rate of sales records mentioning it
  against all decided deals. `business_impact` folds these into 0 (minimal) .. 1 (critical).
Then a priority ranking, the three touchpoints to fix first, and the most negative
touchpoints that are easy to fix.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np

from valuestory.records import Record, is_renewal
from valuestory.stats import (
    RESAMPLES,
    Interval,
    bootstrap_difference,
    bootstrap_mean,
    excludes_zero,
    percentiles,
    wilson,
)

from .artefacts import Mention, PersonaScore, PersonaScorecards, Scorecard, TouchpointDef, TouchpointScore
from .contract import Stage, stages

MIN_MENTIONS = 3  # fewer and a touchpoint is listed but not ranked
EASY_FIX_EMOTION = -0.1  # an easy fix is a low-effort touchpoint at least this negative
NPS_CRITICAL = 5  # NPS points at stake that make a touchpoint's business impact critical
# Rating points at stake (the mean rating minus the mean without its mentioners) that make it
# critical: the share of the scale NPS_CRITICAL is of NPS's 200 points (0.1 star of 1-5).
RATING_CRITICAL = NPS_CRITICAL / 200


def nps(categories: np.ndarray) -> float | None:
    """categories: +1 promoter (9-10), 0 passive (7-8), -1 detractor (0-6)."""
    return round(float(categories.mean() * 100), 1) if len(categories) else None


def _nps_impact(cats: np.ndarray, flags: np.ndarray, rng: np.random.Generator) -> Interval:
    """Overall NPS minus NPS without the mentioners, with a bootstrap over respondents.

    A resample of the respondents only matters through how many of them fall in each of the six
    cells (promoter, passive or detractor; mentioner or not), so each resample is drawn as
    those six counts (a multinomial), the same distribution as drawing every respondent, in
    constant time: at 200,000 respondents per-respondent draws took 40 s per scorecard."""
    if flags.sum() == 0 or (~flags).sum() == 0:
        return Interval(value=None)
    value = nps(cats) - nps(cats[~flags])
    cells = np.array([((cats == c) & (flags == f)).sum() for f in (False, True) for c in CATEGORIES], dtype=float)
    counts = rng.multinomial(len(cats), cells / cells.sum(), size=RESAMPLES)
    points = np.array(CATEGORIES * 2, dtype=float)
    overall = counts @ points / len(cats) * 100
    others = counts[:, :len(CATEGORIES)]
    kept = others @ points[:len(CATEGORIES)] / np.maximum(others.sum(axis=1), 1) * 100
    low, high = percentiles(overall - kept)
    return Interval(value=round(value, 1), low=round(low, 1), high=round(high, 1))


CATEGORIES = (-1, 0, 1)  # detractor, passive, promoter


def _category(score: float) -> int:
    return 1 if score >= 9 else -1 if score <= 6 else 0


def score(mentions: list[Mention], records: list[Record], touchpoints: list[TouchpointDef],
          seed: int = 7) -> Scorecard:
    rng = np.random.default_rng(seed)
    rating_rng = np.random.default_rng(seed + 1)  # its own draws: the other intervals stay as they were
    effort = {t.name: t.effort for t in touchpoints}
    by_record: dict[str, Record] = {r.record_id: r for r in records}
    nps_records = [r for r in records if r.kind == "nps" and r.score is not None]
    nps_at = {r.record_id: k for k, r in enumerate(nps_records)}  # record id -> its place among them
    cats = np.array([_category(r.score) for r in nps_records], dtype=float)
    rated, scale = ratings_of(records)
    rated_at = {r.record_id: k for k, r in enumerate(rated)}
    ratings = np.array([r.score for r in rated], dtype=float)
    decided = [r for r in records if r.kind == "sales" and r.fields.get("outcome") in ("won", "lost")]
    lost_all = _lost_rate(decided)
    renewals = [r for r in decided if is_renewal(r)]
    churn_all = _lost_rate(renewals)

    grouped: dict[tuple[str, str], list[Mention]] = defaultdict(list)
    for m in mentions:
        grouped[(m.touchpoint, "overall")].append(m)
        grouped[(m.touchpoint, m.kind)].append(m)
    scope_sizes = {"overall": sum(1 for r in records if r.text.strip())}
    for r in records:
        if r.text.strip():
            scope_sizes[r.kind] = scope_sizes.get(r.kind, 0) + 1

    scores = []
    for (name, scope), ms in grouped.items():
        record_ids = {m.record_id for m in ms}
        respondents = {by_record[i].respondent or i for i in record_ids if i in by_record}
        known = [m.did_job for m in ms if m.did_job is not None]
        s = TouchpointScore(
            touchpoint=name, scope=scope, mentions=len(ms), records=len(record_ids),
            respondents=len(respondents), frequency=round(len(record_ids) / max(1, scope_sizes.get(scope, 1)), 4),
            emotional_impact=bootstrap_mean(np.array([m.sentiment for m in ms]), rng),
            functional_performance=wilson(sum(known), len(known)), effort=effort.get(name, "medium"))
        if scope in ("overall", "nps") and len(cats):
            flags = _flags(nps_at, record_ids)
            if flags.any():
                s.nps_mentioners, s.nps_others = nps(cats[flags]), nps(cats[~flags])
                s.nps_impact = _nps_impact(cats, flags, rng)
        if scope in ("overall", "feedback") and len(ratings):
            flags = _flags(rated_at, record_ids)
            s.rated_mentioners = int(flags.sum())
            if s.rated_mentioners and (~flags).any():
                s.rating_mentioners = round(float(ratings[flags].mean()), 2)
                s.rating_others = round(float(ratings[~flags].mean()), 2)
                s.rating_scale = scale
                if s.rated_mentioners >= MIN_MENTIONS and (~flags).sum() >= MIN_MENTIONS:
                    # a gap between one review and the rest has no interval worth showing
                    s.rating_impact = bootstrap_difference(ratings[~flags], ratings[flags], rating_rng, digits=2)
        deals = [by_record[i] for i in record_ids if i in by_record and by_record[i] in decided]
        if scope in ("overall", "sales") and deals:
            s.lost_deal_rate, s.lost_deal_rate_all = _lost_rate(deals), lost_all
            renewed = [r for r in deals if is_renewal(r)]
            if renewed:
                s.churn_rate, s.churn_rate_all = _lost_rate(renewed), churn_all
        s.business_impact = _business_impact(s, float(ratings.mean()) if len(ratings) else None)
        scores.append(s)
    _rank([s for s in scores if s.scope == "overall"])
    overall = sorted((s for s in scores if s.scope == "overall"), key=lambda s: (s.rank or 10**6, -s.mentions))
    rest = sorted((s for s in scores if s.scope != "overall"), key=lambda s: (s.scope, -s.mentions))
    ranked = [s for s in overall if s.rank is not None]
    easy = sorted((s for s in ranked if s.effort == "low" and (s.emotional_impact.value or 0) < EASY_FIX_EMOTION),
                  key=lambda s: s.emotional_impact.value)
    return Scorecard(scores=overall + rest, fix_first=[s.touchpoint for s in ranked[:3]],
                     easy_fixes=[s.touchpoint for s in easy[:3]], overall_nps=nps(cats),
                     nps_respondents=len(cats), overall_rating=round(float(ratings.mean()), 2) if len(ratings) else None,
                     rating_respondents=len(ratings), rating_scale=scale)


def _flags(at: dict[str, int], record_ids: set[str]) -> np.ndarray:
    """Which of the records placed by `at` are among `record_ids` (a string array and np.isin
    held some 200 MiB at a million responses)."""
    flags = np.zeros(len(at), dtype=bool)
    flags[[k for i in record_ids if (k := at.get(i)) is not None]] = True
    return flags


def by_persona(mentions: list[Mention], records: list[Record], touchpoints: list[TouchpointDef],
               persona_of: dict[str, str], seed: int = 7) -> PersonaScorecards:
    """Each persona's own scorecard (its records and their mentions, ranked among
    themselves), and per touchpoint the difference of its emotional impact from the other
    personas' mentions, flagged only when the interval of the difference excludes 0."""
    rng = np.random.default_rng(seed)
    names = sorted({persona_of.get(r.record_id) or "" for r in records} - {""})
    by_touchpoint: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # touchpoint -> (personas, sentiments)
    for name, ms in _grouped(mentions).items():
        by_touchpoint[name] = (np.array([persona_of.get(m.record_id, "") for m in ms]),
                               np.array([m.sentiment for m in ms]))
    out, fix_first = [], {}
    for name in names:
        mine = {r.record_id for r in records if persona_of.get(r.record_id) == name}
        card = score([m for m in mentions if m.record_id in mine], [r for r in records if r.record_id in mine],
                     touchpoints, seed)
        fix_first[name] = card.fix_first
        for s in card.scores:
            if s.scope != "overall":
                continue
            who, sentiments = by_touchpoint[s.touchpoint]
            here, rest = sentiments[who == name], sentiments[who != name]
            versus = (bootstrap_difference(rest, here, rng) if len(here) >= MIN_MENTIONS and len(rest) >= MIN_MENTIONS
                      else Interval(value=None))
            out.append(PersonaScore(persona=name, score=s, versus_rest=versus, differs=excludes_zero(versus)))
    return PersonaScorecards(personas=names, scores=out, fix_first=fix_first)


def _grouped(mentions: list[Mention]) -> dict[str, list[Mention]]:
    out: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        out[m.touchpoint].append(m)
    return out


def ratings_of(records: list[Record]) -> tuple[list[Record], str | None]:
    """The records with a star rating or CSAT score (not NPS), on the scale most of them use:
    two scales are not averaged together."""
    rated = [r for r in records if r.kind != "nps" and r.score is not None and r.fields.get("score_scale")]
    if not rated:
        return [], None
    scale = Counter(r.fields["score_scale"] for r in rated).most_common(1)[0][0]
    return [r for r in rated if r.fields["score_scale"] == scale], scale


def _lost_rate(deals: list[Record]) -> float | None:
    return round(sum(r.fields.get("outcome") == "lost" for r in deals) / len(deals), 3) if deals else None


def _lift(rate: float | None, base: float | None) -> float | None:
    """How much worse than usual, 0..1 (twice the usual rate or more is 1)."""
    if rate is None or base is None:
        return None
    return min(1.0, max(0.0, rate - base) / max(0.05, base))


def _business_impact(s: TouchpointScore, overall_rating: float | None = None) -> float:
    """0..1: reach, NPS points at stake (5 points is critical), rating points at stake (the
    same share of its scale), lost-deal and churn lift. Points at stake grow with how many
    mention it: two one-star reviews move a mean rating less than forty do."""
    parts = [min(1.0, s.frequency * 4)]
    if s.nps_impact.value is not None:
        parts.append(min(1.0, abs(s.nps_impact.value) / NPS_CRITICAL))
    if s.rating_impact.value is not None and s.rating_others is not None and overall_rating is not None and s.rating_scale:
        low, high = (float(x) for x in s.rating_scale.split("-"))
        parts.append(min(1.0, abs(overall_rating - s.rating_others) / (RATING_CRITICAL * (high - low))))
    parts += [x for x in (_lift(s.lost_deal_rate, s.lost_deal_rate_all), _lift(s.churn_rate, s.churn_rate_all))
              if x is not None]
    return round(float(np.mean(parts)), 3)


def _rank(overall: list[TouchpointScore]) -> None:
    """Priority: how much it hurts (negative emotion, failing its job) times how many it
    reaches and how much business rides on it. Only touchpoints with enough mentions."""
    for s in overall:
        if s.mentions < MIN_MENTIONS:
            continue
        emotion = s.emotional_impact.value or 0.0
        fp = s.functional_performance
        failing = 0.5
        if fp.value is not None:
            # "Failed 2 times out of 2" is weak evidence: shrink toward 0.5 by how wide its
            # interval is, so a handful of mentions cannot outrank a widespread pain.
            certainty = 1 - (fp.high - fp.low) if fp.low is not None and fp.high is not None else 0.5
            failing = (1 - fp.value) * certainty + 0.5 * (1 - certainty)
        pain = max(0.0, -emotion) + 0.5 * failing * (emotion < 0.2)
        s.priority = round(pain * (0.3 + math.sqrt(s.frequency)) * (0.5 + s.business_impact), 4)
    ranked = sorted((s for s in overall if s.mentions >= MIN_MENTIONS), key=lambda s: -s.priority)
    for i, s in enumerate(ranked, start=1):
        s.rank = i


STAGE = stages.register("scores")(Stage(
    name="scores", needs=("corpus", "catalogue"), produces=Scorecard, version="scores.3",
    offline=lambda corpus, catalogue: score(catalogue.mentions, list(corpus.records), catalogue.touchpoints)))
