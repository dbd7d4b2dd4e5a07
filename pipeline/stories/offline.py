"""Stage 6, sensemaking hypotheses: why a persona makes each pivotal decision.

For each persona and decision with enough evidence: context (identity, backstory, situation),
motivators in four categories (functional goals, rational approach with its promotion or
prevention focus, social influences, emotional drivers), an explicit story and an implicit
story. Offline, every statement is a customer's own sentence cited by record (never a rep's note
about them), found by cue lexicons in the records that hold the decision, each sentence on
one persona's evidence board once. The offline engine does not write the stories: it says
so, and gives the customers' own words at the decision instead; a model drafts them
(`stories/llm.py`). All of it is a hypothesis with a confidence and its evidence.
"""

from __future__ import annotations

import re
from collections import defaultdict

from valuestory.records import Record

from ..artefacts import Coding, Decision, Hypothesis, Journey, Personas, Statement, Stories
from ..contract import Corpus
from ..text import NOT_EVIDENCE, NOTE_KINDS, clauses

MIN_RECORDS = 2  # a decision needs this many records behind it to get a story
PER_CATEGORY = 3  # statements shown per context or motivator category

CUES = {
    "identity": r"\b(?:i'm an?|i am an?|we're an?|we are an?|as an?|i've been|been on my own|my (?:own )?business|"
                r"just me|one-(?:man|woman|person)|family business|in the trades?)\b",
    "backstory": r"\b(?:before|used to|previous|last (?:software|tool|system|one)|tried|back then|years ago|"
                 r"competitor|old system|spreadsheets?|paper)\b",
    "situation": r"\b(?:when|that (?:day|night|week|morning)|one (?:day|job|morning|week)|at the time|that's when|"
                 r"the moment|on a (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|job))\b",
    "functional_goals": r"\b(?:(?:i|we) (?:needed|need|wanted|want) to|so (?:that )?(?:i|we) (?:can|could)|to get paid|"
                        r"to stop|to save|to win|the whole reason)\b",
    "rational_approach": r"\b(?:compar\w+|shortlist\w*|reviews?|trial|demo|reference|pilot|evaluat\w+|asked (?:around|twice)|"
                         r"price|cheaper|criteria|read)\b",
    "social_influences": r"\b(?:friend|group|peer|mate|colleague|told me|recommended|referr\w*|my (?:wife|husband|"
                         r"accountant|bookkeeper|team|guys|staff|customers|clients)|people (?:say|said)|everyone)\b",
    "emotional_drivers": r"\b(?:afraid|scared|worr\w+|fear|hope\w*|proud|embarrass\w*|stress\w*|relie\w+|angry|"
                         r"furious|exhausted|tired|stung|hurt|cried|love|trust\w*|felt|feel)\b",
}
COMPILED = {k: re.compile(p, re.I) for k, p in CUES.items()}
# A sentence goes to the first category it fits in this order: the specific before the broad.
BOARD_ORDER = ("identity", "situation", "social_influences", "emotional_drivers", "backstory", "functional_goals",
               "rational_approach")
NOT_DRAFTED = ("Not drafted: the offline engine does not write stories. Run with a model (--llm) for a drafted "
               "{which} story; ")
PROMOTION = re.compile(r"\b(?:grow\w*|win|won|more (?:jobs|work|customers|clients)|faster|professional|bigger|"
                       r"better|gain\w*|proud|serious\w*|expand\w*|opportunit\w+|ambitio\w+|dream\w*|level up|"
                       r"impress\w*|look(?:ed)? (?:official|legit|sharp))\b", re.I)
PREVENTION = re.compile(r"\b(?:avoid\w*|lose|lost|losing|risk\w*|mistakes?|safe\w*|never again|burned|worr\w+|late|"
                        r"chas(?:e|ing)|careful|afraid|scared|fear\w*|protect\w*|can't afford|blindsided|surprise\w*|"
                        r"penalt\w+|fine[ds]?|dispute\w*|audit\w*|held|stuck)\b", re.I)


def hypotheses(records: list[Record], decisions: list[Decision], min_records: int = MIN_RECORDS,
               per_category: int = PER_CATEGORY) -> list[Hypothesis]:
    by_id = {r.record_id: r for r in records}
    grouped: dict[tuple[str, str], list[Decision]] = defaultdict(list)
    for d in decisions:
        grouped[(d.persona, d.decision)].append(d)
    out = []
    on_board: dict[str, set[str]] = defaultdict(set)  # per persona: sentences shown already
    for (persona, decision), ds in sorted(grouped.items()):
        ids = sorted({d.record_id for d in ds})
        if len(ids) < min_records:
            continue
        found: dict[str, list[Statement]] = defaultdict(list)
        for rid in ids:
            if by_id[rid].kind in NOTE_KINDS:
                continue
            for c in clauses(by_id[rid]):
                key = " ".join(c.text.lower().split())
                if key in on_board[persona] or NOT_EVIDENCE.search(c.text):
                    continue
                cat = next((k for k in BOARD_ORDER if COMPILED[k].search(c.text)), None)
                if cat and len(found[cat]) < per_category * 3:
                    found[cat].append(Statement(text=c.text, records=[rid], span=c.span))
                    on_board[persona].add(key)
        pick = {cat: _spread(found[cat], per_category) for cat in CUES}
        # Regulatory focus shows in how they talk about the whole decision, not only in the
        # sentences about goals: every statement found and the decision quotes themselves.
        rational = " ".join([s.text for v in found.values() for s in v] + [d.quote for d in ds])
        promo, prev = len(PROMOTION.findall(rational)), len(PREVENTION.findall(rational))
        focus = "unknown" if not promo + prev else "promotion" if promo > 1.5 * prev else \
            "prevention" if prev > 1.5 * promo else "mixed"
        own = [d for d in ds if by_id[d.record_id].kind not in NOTE_KINDS and not NOT_EVIDENCE.search(d.quote)]
        first_person = [d for d in own if re.search(r"\b(?:i|we|my|our)\b", d.quote, re.I)] or own
        words = ("their own words at this decision: " + " … ".join(f"“{d.quote}”" for d in first_person[:4])
                 if first_person else "no customer states this decision in their own words (only notes about them do).")
        cited = sum(len(v) for v in pick.values())
        out.append(Hypothesis(
            persona=persona, decision=decision,
            context={k: pick[k] for k in ("identity", "backstory", "situation")},
            motivators={k: pick[k] for k in ("functional_goals", "rational_approach", "social_influences",
                                             "emotional_drivers")},
            focus=focus, explicit_story=NOT_DRAFTED.format(which="explicit") + words,
            implicit_story=NOT_DRAFTED.format(which="implicit") + "the evidence board below holds the social "
            "and emotional statements it would read.",
            confidence=confidence(len(ids), cited), evidence=ids))
    return out


def confidence(records: int, statements: int) -> float:
    """Computed from the amount of evidence, never asked of a model: more records holding the
    decision and more cited statements, more confidence; never certainty."""
    return round(min(0.9, 0.2 + 0.08 * records + 0.01 * statements), 2)


def _spread(statements: list[Statement], n: int) -> list[Statement]:
    """Up to n statements, from as many different records as possible."""
    seen, first, rest = set(), [], []
    for s in statements:
        (rest if s.records[0] in seen else first).append(s)
        seen.add(s.records[0])
    return (first + rest)[:n]


def stories(corpus: Corpus, catalogue: Coding, journey: Journey, personas: Personas) -> Stories:
    from .brief import briefs  # brief builds on this module's helpers
    records = list(corpus.records)
    return Stories(hypotheses=hypotheses(records, journey.decisions),
                   briefs=briefs(records, catalogue, journey, personas))
