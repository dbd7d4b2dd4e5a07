"""Stage 6, sensemaking hypotheses: why a persona makes each pivotal decision.

For each persona and decision with enough evidence: context (identity, backstory, situation),
motivators in four categories (functional goals, rational approach with its promotion or
prevention focus, social influences, emotional drivers), an explicit story and an implicit
story. Offline, every statement is a customer's sentence cited by record, found by cue
lexicons in the records that hold the decision; the explicit story strings the customers'
own first-person words together, and the implicit story is a drafted reading of the
social and emotional cues. All of it is a hypothesis with a confidence and its evidence.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from valuestory.records import Record

from ..artefacts import Decision, Hypothesis, Journey, Personas, Statement, Stories
from ..contract import Corpus
from ..text import clauses

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
    for (persona, decision), ds in sorted(grouped.items()):
        ids = sorted({d.record_id for d in ds})
        if len(ids) < min_records:
            continue
        found: dict[str, list[Statement]] = defaultdict(list)
        for rid in ids:
            for c in clauses(by_id[rid]):
                for cat, pattern in COMPILED.items():
                    if pattern.search(c.text) and len(found[cat]) < per_category * 3:
                        found[cat].append(Statement(text=c.text, records=[rid], span=c.span))
        pick = {cat: _spread(found[cat], per_category) for cat in CUES}
        # Regulatory focus shows in how they talk about the whole decision, not only in the
        # sentences about goals: every statement found and the decision quotes themselves.
        rational = " ".join([s.text for v in found.values() for s in v] + [d.quote for d in ds])
        promo, prev = len(PROMOTION.findall(rational)), len(PREVENTION.findall(rational))
        focus = "unknown" if not promo + prev else "promotion" if promo > 1.5 * prev else \
            "prevention" if prev > 1.5 * promo else "mixed"
        first_person = [d for d in ds if re.search(r"\b(?:i|we|my|our)\b", d.quote, re.I)] or ds
        explicit = " … ".join(f"“{d.quote}”" for d in first_person[:4])
        cited = sum(len(v) for v in pick.values())
        out.append(Hypothesis(
            persona=persona, decision=decision,
            context={k: pick[k] for k in ("identity", "backstory", "situation")},
            motivators={k: pick[k] for k in ("functional_goals", "rational_approach", "social_influences",
                                             "emotional_drivers")},
            focus=focus, explicit_story=f"In their words: {explicit}",
            implicit_story=_implicit(persona, decision, pick, focus),
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


def _implicit(persona: str, decision: str, pick: dict[str, list[Statement]], focus: str) -> str:
    # Name feelings and people, not the verbs that introduce them ("felt", "told me").
    words = Counter(w for s in pick["emotional_drivers"] for m in COMPILED["emotional_drivers"].finditer(s.text)
                    if (w := m.group(0).lower()) not in {"felt", "feel", "love"})
    people = Counter(w for s in pick["social_influences"] for m in COMPILED["social_influences"].finditer(s.text)
                     if not (w := m.group(0).lower()).startswith(("told", "recommend", "referr", "people", "everyone")))
    feelings = ", ".join(w for w, _ in words.most_common(3)) or "feelings the data does not show"
    others = ", ".join(w for w, _ in people.most_common(3)) or "no one named in the data"
    stance = {"promotion": "reaching for a gain", "prevention": "guarding against a loss",
              "mixed": "weighing a gain against a loss", "unknown": "for reasons the data leaves open"}[focus]
    return (f"Hypothesis (offline draft): at the {decision} decision, {persona or 'these customers'} act "
            f"{stance}; beneath what they say, the cues point to {feelings}, and to the judgement of "
            f"{others}. Check against the cited records before relying on it.")


def stories(corpus: Corpus, journey: Journey, personas: Personas) -> Stories:
    return Stories(hypotheses=hypotheses(list(corpus.records), journey.decisions))
