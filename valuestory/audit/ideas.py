"""Improvement hypotheses for a small business, offline: a library keyed by the kind of
business and the kind of friction customers report at a touchpoint, in the words of a business
without a research team.

Each names what exactly changes, what it needs (time, money, who), how to tell it worked and
what could go wrong. The kinds customers report at the touchpoint come first, each hypothesis
opening with how many of them report it and their words; where fewer than five fit, general
practice fills the list and says so. With a model configured, the audit drafts them instead
from the reviews' quotes (the opportunities stage); these are the offline engine's.
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel

from valuestory.pipeline.artefacts import CitedSpan, Mention
from valuestory.pipeline.opportunities.offline import COMPILED as SHARED_FRICTION

# The shared kinds, with what a shop or a salon hears as well: in reviews "days" and "hours"
# are opening times more often than waits, and "sold out" or "nobody picked up" is a missing
# service; two kinds the shared list has no words for.
FRICTION = {**SHARED_FRICTION,
            "waiting": re.compile(r"\bwait|queue|slow|ages\b|forever|took (?:ages|forever|\d+)|\d+ minutes|\blate\b|"
                                  r"delay|on hold", re.I),
            "availability": re.compile(SHARED_FRICTION["availability"].pattern.replace("|hours", "")
                                       + r"|sold out|nothing left|locked|no notice|engaged|nobody picked up|"
                                         r"booked up|no slot|can never get", re.I),
            "attitude": re.compile(r"rude|unfriendly|ignored|dismissive|attitude|sarcastic|snapp|grumpy|unhelpful|"
                                   r"shrugged|no apology|made me feel", re.I),
            "quality": re.compile(r"stale|\bcold\b|lukewarm|burnt|undercooked|\bdry\b|uneven|patchy|bland|soggy|"
                                  r"poor quality|not fresh|tasteless|overcooked|damaged|\bhair in\b", re.I)}
PER_KIND = 2  # ideas per kind in the first pass, so five ideas cover more than one kind
LABEL = {"waiting": "waiting", "failure": "something going wrong", "confusion": "not understanding it",
         "cost": "the price", "notice": "not being told", "availability": "not being able to get it when they need it",
         "effort": "extra effort", "capability": "something missing", "attitude": "how they were treated",
         "quality": "the quality"}

# (what exactly changes, time, money, who, how to measure success, what could go wrong);
# “{tp}” is the touchpoint, {staff} who serves customers.
Idea = tuple[str, str, str, str, str, str]
LIBRARY: dict[str, list[Idea]] = {
    "waiting": [
        ("Time “{tp}” for a week at the busiest hours and fix the slowest step first", "a week", "none",
         "you", "minutes of waiting at peak; reviews mentioning waiting", "the fix for peak hours may not be needed off-peak"),
        ("Add a second person or station at “{tp}” during the two busiest hours", "from next week", "a few staff hours a week",
         "you and {staff}", "queue length at peak; sales per hour", "staff cost rises before sales do"),
        ("Tell customers how long “{tp}” will take when they arrive or order", "a day", "none", "{staff}",
         "complaints about waiting; reviews that say 'worth the wait'", "a promise missed hurts more than none"),
        ("Let regulars order or book ahead so “{tp}” is ready when they arrive", "two weeks", "a simple booking or order tool",
         "you", "share of orders placed ahead; waiting complaints", "walk-in customers may wait longer"),
        ("Prepare the most asked-for items before the rush", "a week of tracking", "some waste at first", "{staff}",
         "waiting time at peak; waste thrown away", "over-preparing raises waste"),
    ],
    "quality": [
        ("Write down the standard for “{tp}” (how it should look, taste or be finished) and check it every day",
         "an afternoon", "none", "you and {staff}", "complaints about quality; re-dos or refunds",
         "a checklist nobody reads changes nothing"),
        ("Ask the last customers of the day how “{tp}” was, and fix what they say the next morning", "ten minutes a day",
         "none", "{staff}", "the share of good answers over a month", "customers may not say it to your face"),
        ("Sell or serve only what is at its best: cut what is left over rather than offer it", "from tomorrow",
         "some waste", "you", "reviews mentioning freshness or quality", "waste costs money until quantities adjust"),
        ("Find the one supplier, recipe or step behind most quality complaints and change it", "two weeks",
         "depends on the change", "you", "complaints about the item or service changed", "a new supplier brings new risks"),
        ("Train {staff} on the signs that “{tp}” is not right before it reaches the customer", "an hour of training",
         "staff time", "you and {staff}", "items sent back or re-done", "slower service while they learn"),
    ],
    "attitude": [
        ("Agree with {staff} three things every customer hears or gets at “{tp}” (a greeting, a thank-you, help offered)",
         "a team chat", "none", "you and {staff}", "reviews mentioning staff; repeat visits", "scripted words can sound false"),
        ("Read the negative reviews about “{tp}” with the team and ask what happened", "an hour", "none",
         "you and {staff}", "the same complaint next quarter", "people may feel blamed; keep it about the situation"),
        ("Check that {staff} are not overloaded at the moments customers complain about", "a week of watching",
         "possibly extra hours", "you", "complaints at peak times", "more staff costs money"),
        ("Reply to every review about how someone was treated, and invite the customer back", "15 minutes a week",
         "none", "you", "replies sent; customers who come back", "a defensive reply makes it worse"),
        ("Praise the {staff} who customers name positively, so what they do spreads", "from now", "none", "you",
         "positive mentions of staff", "others may feel overlooked"),
    ],
    "cost": [
        ("Show what customers get for the price of “{tp}” (size, what is included, where it comes from)", "a day",
         "printing or a web update", "you", "reviews mentioning price or value", "a price list can invite comparisons"),
        ("Offer a smaller or simpler option at “{tp}” for customers who find it too much", "two weeks", "none",
         "you", "sales of the new option; price complaints", "customers may trade down"),
        ("Make every extra charge at “{tp}” clear before the customer commits", "a day", "none", "you and {staff}",
         "complaints about surprise costs", "seeing extras upfront may put some off"),
        ("Reward regulars (a loyalty card, a tenth visit free) instead of cutting prices", "a week", "the cost of the reward",
         "you", "repeat customers; visits per customer", "rewards cost margin on customers who would come anyway"),
    ],
    "availability": [
        ("Match the hours of “{tp}” to when customers say they need it, even if the total hours stay the same",
         "a month", "none", "you", "complaints about hours; sales in the new hours", "some regulars used the old hours"),
        ("Tell customers when “{tp}” is not available (sold out, fully booked, closed) before they travel", "a day",
         "none", "you", "wasted trips mentioned in reviews", "posting 'sold out' often may look badly run"),
        ("Keep back or make more of what runs out first", "two weeks of tracking", "some waste", "you",
         "the time things sell out; complaints", "waste if demand drops"),
    ],
    "failure": [
        ("Keep a log of every time “{tp}” goes wrong for a month and fix the most common cause", "a month", "depends",
         "you and {staff}", "times it went wrong per week", "logging takes time"),
        ("Agree what {staff} do straight away when “{tp}” goes wrong (apologise, put it right, a small gesture)",
         "an hour", "the cost of gestures", "you and {staff}", "complaints that mention how it was handled",
         "gestures can be expected every time"),
        ("Check “{tp}” before customers use it (a morning checklist)", "10 minutes a day", "none", "{staff}",
         "problems found before customers see them", "a checklist can become a tick-box"),
    ],
    "confusion": [
        ("Rewrite what customers read about “{tp}” in the words they use in the reviews", "an afternoon", "none",
         "you", "questions asked about it", "shorter text may leave out details some need"),
        ("Ask three customers to use “{tp}” while you watch, and fix where they hesitate", "an afternoon", "a coffee each",
         "you", "the same task done without help", "three people are not everyone"),
    ],
    "notice": [
        ("Tell customers about changes to “{tp}” before they happen, with the reason", "from the next change",
         "none", "you", "complaints after changes", "early notice may send some elsewhere"),
    ],
    "effort": [
        ("Remove one step customers have to do themselves at “{tp}”", "two weeks", "depends", "you",
         "complaints about effort; time taken", "the step may have had a purpose"),
    ],
    "capability": [
        ("Count how many customers ask for what “{tp}” does not offer, and decide yes or no on a date", "a month",
         "none until you decide", "you", "requests counted; customers who asked and came back",
         "saying no may lose those customers"),
    ],
}
# What a kind of friction calls for in a kind of business, before the ideas any business
# could try: a salon's waiting is an appointment running late, a web shop's is a parcel.
BY_TYPE: dict[str, dict[str, list[Idea]]] = {
    "cafe_bakery": {
        "availability": [
            ("Bake a second batch of the bestsellers for the afternoon, and say on the door and online when it is out",
             "two weeks of tracking what sells out when", "some flour and an hour of baking", "the baker",
             "the time each bestseller sells out; wasted trips in reviews", "unsold afternoon bread is waste")],
        "waiting": [
            ("Set up a grab-and-go shelf for bread and pastries so those customers skip the coffee queue",
             "a day", "a shelf and labels", "you and the counter staff", "queue length at 8-9am; sales per hour",
             "pastries on a shelf go stale faster")],
        "quality": [
            ("Sell yesterday's bakes as 'day-old' at a discount instead of as fresh", "from tomorrow",
             "lower price on leftovers", "the counter staff", "complaints about stale items",
             "some full-price sales move to day-old")],
    },
    "restaurant": {
        "waiting": [
            ("Tell the table how long mains will take when they order, and bring bread or water meanwhile",
             "from the next service", "a little bread", "the waiting staff", "complaints about waiting; table turn time",
             "a quoted time that slips makes it worse")],
        "availability": [
            ("Keep two tables for walk-ins and offer a call-back list when full", "a week", "none", "front of house",
             "walk-ins turned away; covers per night", "fewer bookable tables")],
    },
    "salon": {
        "waiting": [
            ("Leave a 10-minute buffer after colour appointments, which run over most", "from next week's diary",
             "one fewer slot a day at first", "the front desk", "minutes clients wait past their slot",
             "fewer appointments a day")],
        "availability": [
            ("Open a late evening or an extra Saturday chair for the slots most asked for", "a month", "a stylist's hours",
             "you and the stylists", "waiting list for those slots; new bookings", "quiet extra hours cost wages")],
        "quality": [
            ("Do a strand test and agree a photo of the result before every colour", "from now", "15 minutes a colour",
             "the stylists", "re-dos and refunds for colour", "appointments take longer")],
    },
    "trades": {
        "waiting": [
            ("Text the customer an arrival window the evening before, and again when the crew sets off", "a week",
             "a texting tool", "the office", "no-show complaints; calls asking 'where are you'", "a window missed is noticed")],
        "cost": [
            ("Put extras in writing before doing them, with the price, and get a yes by text", "from the next job",
             "none", "the crew", "complaints that the bill was higher than the quote", "a job pauses while waiting for a yes")],
    },
    "clinic": {
        "availability": [
            ("Open online booking for follow-ups so the phone line is free for new patients", "a month",
             "a booking tool subscription", "reception", "calls not answered; time to get an appointment",
             "patients without internet need the phone still")],
        "waiting": [
            ("Text patients when the clinic is running more than 15 minutes late", "a week", "a texting tool",
             "reception", "complaints about waiting room time", "patients arrive late in turn")],
    },
    "local_shop": {
        "availability": [
            ("Offer to order in what is out of stock, with a text when it arrives", "a week", "none", "the shop staff",
             "orders taken; complaints about stock", "orders that are never collected")],
    },
    "online_shop": {
        "waiting": [
            ("Show a delivery date, not a number of days, at checkout, and email when it changes", "two weeks",
             "shop settings or a plug-in", "you", "'where is my order' emails; delivery complaints",
             "a date promised and missed costs a review")],
        "quality": [
            ("Add a photo of every parcel before it leaves, and pack fragile items in double boxes", "a week",
             "better packaging", "fulfilment", "items arriving damaged; refunds", "packaging cost")],
    },
    "software": {
        "failure": [
            ("Fix the most reported bug first and tell every customer who reported it", "a sprint", "developer time",
             "the product team", "tickets about it; those customers' renewals", "other work waits")],
    },
}
GENERAL: list[Idea] = [
    ("Ask customers one question about “{tp}” right after it happens (a card, a text, a QR code)", "a week",
     "printing or a survey tool", "you", "answers per week; the share that are positive", "too many questions annoy people"),
    ("Contact the customers who complained about “{tp}”, put it right, and ask what would have helped", "an hour a week",
     "the cost of putting it right", "you", "customers who come back after a complaint", "some will not want to be contacted"),
    ("Name one person who looks after “{tp}” and checks it weekly", "from now", "none", "you",
     "complaints about it quarter to quarter", "ownership without time to act changes nothing"),
    ("Look at “{tp}” as a first-time customer would (or ask a friend to), and note every snag", "an afternoon",
     "none", "you or a friend", "snags fixed", "a friend may be too kind"),
    ("Compare “{tp}” with the two places your customers mention most, and copy what works", "an afternoon",
     "none", "you", "reviews comparing you with them", "what works there may not fit your customers"),
]


class AuditIdea(BaseModel):
    touchpoint: str
    rank: int
    friction: str  # the kind customers report, or "general practice"
    hypothesis: str
    change: str
    time: str
    money: str
    who: str
    measure: str
    risk: str
    quotes: list[CitedSpan] = []


def friction_of(quotes: list[str]) -> Counter:
    return Counter(k for q in quotes for k, p in FRICTION.items() if p.search(q))


def ideas(touchpoint: str, mentions: list[Mention], business: str, staff: str, n: int = 5) -> list[AuditIdea]:
    """Five hypotheses for a touchpoint: for the kinds of friction its customers report first
    (with their words), those of this kind of business before any business's; general
    practice after, labelled so."""
    negative = sorted((m for m in mentions if m.touchpoint == touchpoint and m.sentiment < 0), key=lambda m: m.sentiment)
    kinds = [k for k, _ in friction_of([m.quote for m in negative]).most_common() if k in LIBRARY]
    library = {k: BY_TYPE.get(business, {}).get(k, []) + LIBRARY[k] for k in kinds}
    first = [(k, idea) for k in kinds for idea in library[k][:PER_KIND]]
    rest = [(k, idea) for k in kinds for idea in library[k][PER_KIND:]]
    chosen = (first + rest)[:n]
    chosen += [("general practice", idea) for idea in GENERAL][:n - len(chosen)]
    records = len({m.record_id for m in negative})
    out = []
    for rank, (kind, (change, time, money, who, measure, risk)) in enumerate(chosen, start=1):
        said = [m for m in negative if kind in FRICTION and FRICTION[kind].search(m.quote)]
        fill = {"tp": touchpoint, "staff": staff}
        if said:
            why = (f"{len({m.record_id for m in said})} of the {records} customers unhappy with {touchpoint} mention "
                   f"{LABEL[kind]} (“{said[0].quote}”)")
        else:
            why = f"General practice for {touchpoint}: the customers' words do not point to this one"
        quotes = list({m.record_id: m.span for m in reversed(said)}.values())[::-1][:3]
        out.append(AuditIdea(touchpoint=touchpoint, rank=rank, friction=kind, hypothesis=why,
                             change=change.format(**fill), time=time, money=money, who=who.format(**fill),
                             measure=measure.format(**fill), risk=risk, quotes=quotes))
    return out
