"""Stage 9, opportunities: five improvement hypotheses for each touchpoint to fix first and
each easy fix, from the kinds of friction its customers report.

The offline engine draws them from a library keyed by friction kind (waiting, failure,
confusion, cost, notice, availability, effort, missing capability), only for the kinds the
touchpoint's customers actually report: each opens with how many of them report it and their
strongest words, then names what exactly changes, the resources it needs, how success is
measured, what could go wrong, and the mentions that motivate it. Where the quotes show no
friction kind, it says so rather than pad the list with general advice. They are hypotheses,
and say so.
"""

from __future__ import annotations

import re
from collections import Counter

from ..artefacts import Coding, Mention, Opportunities, Opportunity, Scorecard, Stories
from ..contract import Corpus

FRICTION: dict[str, str] = {
    "waiting": r"slow|wait|late|delay|took|takes|days|weeks|hours|on hold|forever|long",
    "failure": r"crash|froze|freez|broke|bug|error|fail|lost|duplicat|twice|wrong|down|outage|not work|doesn't work|"
               r"dropp|disconnect|died",
    "confusion": r"confus|unclear|hard to|couldn't find|can't find|complicated|didn't know|no idea|hidden|buried|instructions",
    "cost": r"price|expensive|\bcost|\bfees?\b|charge|pricey|afford|increase|hike|%",
    "notice": r"notice|warning|no explanation|without telling|surprise|newsletter|email|told",
    "availability": r"closed|after \d|weekend|evening|night|nobody answer|no one|no response|no reply|hours",
    "effort": r"had to|by hand|manual|again|every time|keep|kept|chasing|spent|three times",
    "capability": r"can't|cannot|no way|missing|lack|need|wish|would like|doesn't have|not available",
}
COMPILED = {k: re.compile(p, re.I) for k, p in FRICTION.items()}

# (hypothesis, change, resources, success measure, unintended consequences), {tp} = touchpoint
LIBRARY: dict[str, list[tuple[str, str, str, str, str]]] = {
    "waiting": [
        ("Customers wait too long at {tp}; making it faster removes the main complaint",
         "Set and publish a time target for {tp} and fix the slowest step behind it",
         "Process owner, a week of analysis, engineering or staffing for the slow step",
         "Median and 90th-percentile time at {tp}; share of negative mentions about waiting",
         "Speed bought by cutting checks can raise errors"),
        ("Telling customers how long {tp} takes makes the wait acceptable",
         "Show an expected time and live status at {tp}, and alert when it will be late",
         "Product and content work; status data from operations",
         "Contacts asking 'where is it'; sentiment of mentions of {tp}",
         "A promised time that is missed hurts more than no promise"),
    ],
    "failure": [
        ("{tp} fails often enough to define the experience; reliability comes first",
         "Find the top failure modes of {tp} from tickets and logs and fix the two biggest",
         "Engineering sprint, access to logs and tickets, QA",
         "Failure rate of {tp}; tickets about it per 1,000 customers",
         "Feature work slows while the team fixes reliability"),
        ("When {tp} fails, a fast, honest recovery keeps trust",
         "Detect failures of {tp} automatically, tell affected customers first, and undo the damage for them",
         "Monitoring, a customer message template, support playbook",
         "Time from failure to customer notice; churn of affected customers",
         "More visible incidents may alarm customers who would not have noticed"),
    ],
    "confusion": [
        ("Customers do not understand {tp}; clearer words and steps remove friction",
         "Rewrite {tp} with the customers' own words from the quotes, and test it with five customers",
         "Content designer, five customer sessions",
         "Task success in tests; questions to support about {tp}",
         "Shorter text may drop details some customers need"),
        ("Guidance at the moment of use beats documentation",
         "Add in-context help at the step of {tp} where customers get stuck",
         "Product designer and engineer, a week",
         "Drop-off at that step; help-center visits about {tp}",
         "Extra prompts can annoy experienced customers"),
    ],
    "cost": [
        ("Customers feel {tp} costs more than it is worth to them",
         "Show the value delivered next to the price at {tp} (time saved, money collected) and offer a fitting plan "
         "for small customers",
         "Pricing and product marketing, finance analysis",
         "Price-related detractors; downgrade and churn rate of the segment",
         "A cheaper plan can cannibalise revenue"),
        ("Surprise costs hurt more than high costs",
         "Make every fee and the next bill visible before it is charged",
         "Billing engineering, copy",
         "Billing tickets; refunds requested",
         "Fee transparency may prompt price comparisons"),
    ],
    "notice": [
        ("How changes to {tp} are announced drives the reaction as much as the change",
         "Announce changes to {tp} personally, early (30+ days), with the reason and the options",
         "Customer success and marketing time, a reviewed message",
         "Complaints and churn within 60 days of a change",
         "Earlier notice gives competitors a window"),
    ],
    "availability": [
        ("Customers need {tp} when the company is closed",
         "Extend the hours of {tp} to when customers actually work, or offer a callback",
         "Staffing or a follow-the-sun rota; a callback tool",
         "Contacts answered out of hours; sentiment of mentions of {tp}",
         "Higher support cost per contact"),
    ],
    "effort": [
        ("{tp} makes customers do work the company could do",
         "Automate the repeated manual step at {tp} or do it for the customer",
         "Engineering or a service team, depending on the step",
         "Customer effort score at {tp}; repeat contacts",
         "Automation errors are harder for customers to see and fix"),
    ],
    "capability": [
        ("Customers are asking {tp} for something it cannot do yet",
         "Size the missing capability with the quotes, and publish a dated roadmap answer",
         "Product manager discovery, engineering estimate",
         "Requests about {tp}; retention of customers who asked",
         "A public date that slips costs credibility"),
    ],
    "general": [
        ("The customers most upset by {tp} need a direct follow-up",
         "Contact the detractors who mentioned {tp}, fix their case, and learn the root cause",
         "Customer success time, a list from this analysis",
         "Recovered detractors' next score; root causes found",
         "Follow-ups can feel intrusive if poorly timed"),
        ("An owner who watches {tp} weekly keeps it from slipping",
         "Name an owner for {tp} with a weekly look at its mentions and scores",
         "A named owner, a saved search or export",
         "Trend of emotional impact and mentions of {tp} quarter over quarter",
         "Ownership without authority changes nothing"),
        ("Measuring {tp} at the moment it happens finds problems sooner",
         "Ask a one-question survey right after {tp} happens",
         "Survey tool, product hook",
         "Response rate; time to detect a problem at {tp}",
         "Survey fatigue"),
    ],
}


def friction_kinds(quotes: list[str]) -> Counter:
    return Counter(k for q in quotes for k, p in COMPILED.items() if p.search(q))


LABEL = {"waiting": "waiting", "failure": "something failing", "confusion": "not understanding it",
         "cost": "what it costs", "notice": "changes they were not told about", "availability": "not reaching anyone",
         "effort": "work they have to do themselves", "capability": "something it cannot do",
         "general": "no one kind of friction"}


def hypotheses(touchpoint: str, mentions: list[Mention], n: int = 5) -> list[Opportunity]:
    negative = [m for m in mentions if m.touchpoint == touchpoint and m.sentiment < 0]
    kinds = friction_kinds([m.quote for m in negative])
    # Only what customers report; the general practices only when their words show no kind.
    ordered = [k for k, _ in kinds.most_common()] or (["general"] if negative else [])
    chosen: list[tuple[str, tuple]] = []
    for kind in ordered:
        for h in LIBRARY[kind]:
            if len(chosen) < n:
                chosen.append((kind, h))
    records = len({m.record_id for m in negative})
    out = []
    for rank, (kind, (hyp, change, resources, measure, risk)) in enumerate(chosen, start=1):
        pattern = COMPILED.get(kind)
        matching = [m for m in negative if pattern is None or pattern.search(m.quote)]
        evidence = list({m.record_id: m for m in reversed(matching)}.values())[::-1][:5]  # one per record
        worst = min(matching, key=lambda m: m.sentiment)
        said = len({m.record_id for m in matching})
        opening = (f"{said} of the {records} records with a complaint about {touchpoint} "
                   f"{'reports' if said == 1 else 'report'} {LABEL[kind]} (“{worst.quote}”); ")
        reading = hyp.format(tp=touchpoint) if hyp.startswith("{tp}") else hyp[0].lower() + hyp[1:].format(tp=touchpoint)
        out.append(Opportunity(
            touchpoint=touchpoint, rank=rank, friction=kind, hypothesis="Hypothesis: " + opening + reading,
            change=change.format(tp=touchpoint), resources=resources, success_measure=measure.format(tp=touchpoint),
            unintended_consequences=risk, evidence=[m.record_id for m in evidence], quotes=[m.span for m in evidence]))
    return out


def opportunities(corpus: Corpus, catalogue: Coding, scores: Scorecard, stories: Stories | None = None) -> Opportunities:
    """Up to five hypotheses for each touchpoint to fix first, then each easy fix, from the
    friction customers report there (the stories' jobs only guide a model's drafts)."""
    targets = list(dict.fromkeys(scores.fix_first + scores.easy_fixes))
    return Opportunities(targets=targets, items=[o for tp in targets for o in hypotheses(tp, catalogue.mentions)])
