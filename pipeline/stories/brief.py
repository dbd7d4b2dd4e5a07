"""What a persona's sensemaking starts from, computed from the data: a profile of who they are
in the records, the focus phase and the pivotal decision that ends it, and the
transformational storyline (how customers describe themselves and their work before and
after) in their own words.

The focus follows the seed: the phase where the persona's emotion falls most, or, where churn
concentrates, the phase churn ends. Nothing here is asked of a model; a model drafts from it.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from datetime import date
from statistics import mean, median

from valuestory.records import PLACEHOLDER, Record

from ..artefacts import Brief, Coding, Decision, Focus, Journey, Mention, Moment, Personas, Statement, TimeToValue
from ..journey import DECISION_PHASE, PHASES
from ..text import NOT_EVIDENCE, NOTE_KINDS, clauses
from .offline import MIN_RECORDS, _spread

MIN_PHASE_MENTIONS = 5  # a phase's mean emotion counts from this many mentions
CHURN_SHARE = 0.25  # churn concentrates when this share of the records with a decision hold churn
PER_SIDE = 3  # storyline statements shown per side
PROFILE_FIELDS = 4  # record fields shown in a profile
FIELD_VALUES = 8  # a field with more distinct values than this is not a trait (ids, free text)
FIELD_CHARS = 40
TOP_TOUCHPOINTS = 5
# Words customers use when they compare who they were, or how they worked, with now.
# "before I leave the driveway" is only a time of day: "before" counts when it names a past state.
BEFORE = re.compile(r"\b(?:used to|back then|in the old days|previously|at first|in the beginning|"
                    r"before (?:we|i) (?:had|used|found|got|switched|started|joined|signed)|before (?:using|switching)|"
                    r"(?:my|our|the) old (?:way|days|system|tool|app|routine|process|setup)|"
                    r"(?:i|we) (?:was|were) always)\b", re.I)
AFTER = re.compile(r"\b(?:now (?:i|we|my|our|it's|that)|these days|nowadays|since (?:we|i) (?:started|switched|"
                   r"moved|began|got|joined|signed)|no longer|not any ?more|any ?more|for the first time|"
                   r"(?:i've|we've) become|i feel like a|we feel like a|(?:i|we) finally)\b", re.I)
MIN_TTV_CUSTOMERS = 3  # a time to value is given from this many customers' dated journeys
FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|we|we're|we've|my|our|me|us)\b", re.I)


def briefs(records: list[Record], coding: Coding, journey: Journey, personas: Personas) -> list[Brief]:
    members: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        members[personas.persona_of.get(r.record_id, "")].append(r)
    mentions_of: dict[str, list[tuple[str, float]]] = defaultdict(list)  # persona -> (phase, sentiment)
    touchpoints_of: dict[str, Counter] = defaultdict(Counter)
    for m, p in zip(coding.mentions, journey.placements, strict=True):
        persona = personas.persona_of.get(m.record_id, "")
        mentions_of[persona].append((p.phase, m.sentiment))
        touchpoints_of[persona][m.touchpoint] += 1
    decisions_of: dict[str, list[Decision]] = defaultdict(list)
    for d in journey.decisions:
        decisions_of[d.persona].append(d)
    return [Brief(persona=persona, profile=profile(rs, touchpoints_of[persona]),
                  focus=focus(mentions_of[persona], decisions_of[persona]), storyline=storyline(rs),
                  time_to_value=time_to_value(rs, coding.mentions, decisions_of[persona]))
            for persona, rs in sorted(members.items())]


def time_to_value(records: list[Record], mentions: list[Mention], decisions: list[Decision]) -> TimeToValue:
    """Per customer (respondent, else account): from the earliest dated record stating their
    investment to the first later dated record in which they report value. An interview's
    date is when it was held, not when what it tells happened, so one record never gives
    both ends; undated records give none."""
    by_id = {r.record_id: r for r in records}
    customer = {r.record_id: r.respondent or r.account for r in records}
    started: dict[str, tuple[str, str]] = {}  # customer -> (date, record)
    for d in decisions:
        r = by_id.get(d.record_id)
        if d.decision == "investment" and r is not None and r.date and customer[r.record_id]:
            started[customer[r.record_id]] = min(started.get(customer[r.record_id], (r.date, r.record_id)),
                                                 (r.date, r.record_id))
    valued: dict[str, str] = {}
    for m in mentions:
        r = by_id.get(m.record_id)
        if r is None or m.polarity != "positive" or r.kind in NOTE_KINDS or not r.date:
            continue
        who = customer[r.record_id]
        if who in started and r.date >= started[who][0] and r.record_id != started[who][1]:
            valued[who] = min(valued.get(who, r.date), r.date)
    days = sorted((date.fromisoformat(valued[c][:10]) - date.fromisoformat(started[c][0][:10])).days for c in valued)
    if len(days) < MIN_TTV_CUSTOMERS:
        return TimeToValue(customers=len(days), reason=(
            f"not enough dated journeys: {len(days)} customer{'s' if len(days) != 1 else ''} with a dated first "
            f"purchase and a later dated report of value (needs {MIN_TTV_CUSTOMERS}); {len(started)} with a dated "
            "purchase"))
    return TimeToValue(customers=len(days), median_days=median(days), low_days=days[0], high_days=days[-1],
                       reason=f"from {len(days)} customers' dated records")


def profile(records: list[Record], touchpoints: Counter) -> list[str]:
    """Who the persona is in the data: what kinds of records, segments, the traits their
    records' fields carry, their scores and the touchpoints they talk about most."""
    kinds = Counter(r.kind for r in records)
    lines = [f"{len(records)} records: " + ", ".join(f"{n} {k}" for k, n in kinds.most_common())]
    if segments := Counter(r.segment for r in records if r.segment):
        lines.append("segment: " + _counted(segments))
    traits = []
    for key in sorted({k for r in records for k in r.fields}):
        values = Counter(v.strip() for r in records if (v := r.fields.get(key, "")).strip())
        if 1 < len(values) <= FIELD_VALUES or (len(values) == 1 and sum(values.values()) > 1):
            if all(len(v) <= FIELD_CHARS and not PLACEHOLDER.search(v) for v in values):
                traits.append((sum(values.values()), f"{key}: {_counted(values)}"))
    lines += [line for _, line in sorted(traits, key=lambda t: -t[0])[:PROFILE_FIELDS]]
    if nps := [r.score for r in records if r.kind == "nps" and r.score is not None]:
        lines.append(f"NPS score: mean {mean(nps):.1f} of {len(nps)} responses")
    if touchpoints:
        lines.append("talks most about: " + _counted(Counter(dict(touchpoints.most_common(TOP_TOUCHPOINTS)))))
    return lines


def _counted(counts: Counter) -> str:
    return ", ".join(f"{v} ({n})" for v, n in counts.most_common())


def focus(placed: list[tuple[str, float]], decisions: list[Decision]) -> Focus:
    """The phase where churn concentrates, else the one where emotion falls most (or is lowest,
    if it never falls), with the pivotal decision that ends it when enough records tell it."""
    records_of: dict[str, set[str]] = defaultdict(set)
    for d in decisions:
        records_of[d.decision].add(d.record_id)
    deciding = set().union(*records_of.values()) if records_of else set()
    churn = len(records_of.get("churn", ()))
    if churn >= MIN_RECORDS and churn >= CHURN_SHARE * len(deciding):
        return Focus(phase=DECISION_PHASE["churn"], decision="churn",
                     reason=f"churn concentrates here: {churn} of the {len(deciding)} records with a decision")
    by_phase = {ph: [s for p, s in placed if p == ph] for ph in PHASES}
    means = {ph: mean(v) for ph, v in by_phase.items() if len(v) >= MIN_PHASE_MENTIONS}
    if not means:
        return Focus(reason=f"not enough evidence: no phase has {MIN_PHASE_MENTIONS} mentions")
    ordered = [ph for ph in PHASES if ph in means]
    drops = [(means[a] - means[b], b, a) for a, b in itertools.pairwise(ordered) if means[b] < means[a]]
    if drops:
        _, phase, before = max(drops)
        reason = (f"emotion falls most here: mean sentiment {means[phase]:+.2f} ({len(by_phase[phase])} mentions) "
                  f"after {means[before]:+.2f} in {before} ({len(by_phase[before])} mentions)")
    else:
        phase = min(ordered, key=lambda ph: means[ph])
        reason = (f"emotion never falls from one phase to the next; it is lowest here: mean sentiment "
                  f"{means[phase]:+.2f} ({len(by_phase[phase])} mentions)")
    ending = [k for k, ph in DECISION_PHASE.items() if ph == phase and len(records_of.get(k, ())) >= MIN_RECORDS]
    decision = max(ending, key=lambda k: len(records_of[k]), default=None)
    if decision is None:
        reason += f"; no decision ending it is told by {MIN_RECORDS} records"
    return Focus(phase=phase, decision=decision, reason=reason)


def storyline(records: list[Record]) -> list[Moment]:
    """The customers' own sentences comparing before and after, strongest first: those holding
    both sides, then each side; first person preferred, spread over records. Notes about the
    customer are not their words, and lines addressed to an AI are no evidence."""
    found: dict[str, list[Statement]] = defaultdict(list)
    for r in records:
        if r.kind in NOTE_KINDS:
            continue
        for c in clauses(r):
            if NOT_EVIDENCE.search(c.text):
                continue
            before, after = bool(BEFORE.search(c.text)), bool(AFTER.search(c.text))
            if before or after:
                side = "both" if before and after else "before" if before else "after"
                found[side].append(Statement(text=c.text, records=[r.record_id], span=c.span))
    out = []
    for side in ("both", "before", "after"):
        ranked = sorted(found[side], key=lambda s: not FIRST_PERSON.search(s.text))  # stable: record order kept
        out += [Moment(side=side, statement=s) for s in _spread(ranked, PER_SIDE)]
    return out
