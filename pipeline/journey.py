"""Stage 5, phases and pivotal decisions: the transformational storyline.

Every mention and transcript clause is placed in a value-story phase (Imbalance, Challenge,
Engagement, Transformation, or unknown), mapped to the classic stage (Awareness,
Consideration, Acquisition, Service, Loyalty) and to pre- or post-purchase. The events that
move a customer between phases are detected with their verbatim quote and the touchpoints
involved: the inciting incident, intention, investment, interpretation, integration or
advocacy, and churn (a new imbalance). A decision belongs to the phase it ends.

The offline engine reads phase and decision cues: the language people use when they tell
how they came to buy, use, stay or leave.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from valuestory.records import Record, is_renewal

from .artefacts import Coding, Decision, Journey, Mention, Personas, Placement, Step
from .contract import Corpus, Stage, stages
from .text import NOT_EVIDENCE, Clause, asked, clauses

PHASES: tuple[str, ...] = ("Imbalance", "Challenge", "Engagement", "Transformation")

# The phase a decision ends (an inciting incident opens the Imbalance it belongs to).
DECISION_PHASE: dict[str, str] = {"inciting incident": "Imbalance", "intention": "Imbalance",
                                  "investment": "Challenge", "interpretation": "Engagement",
                                  "integration": "Transformation", "churn": "Transformation"}

DECISION_CUES: tuple[tuple[str, str], ...] = (
    ("churn", r"\b(?:cancel(?:l?ed|ling)?\b(?! (?:\d+|a|the|some|two|three|four|five|six|our|my) ?\w* ?"
              r"(?:jobs?|appointments?|visits?|bookings?|orders?|meetings?))|didn't renew|did not renew|won't renew|"
              r"not renewing|not renewed|switch(?:ed|ing) to\b|never again\b|"
              r"(?:won't|will not|wouldn't|would not|never) be (?:ordering|buying|using|shopping|coming back)|"
              r"moving (?:our|my) (?:business|account|custom) to|"
              r"went with (?:a|another|the other|an?) \w+|moved to (?:a|another) \w+|(?:i'm|we're|i am|we are) (?:gone|leaving)|"
              r"trialling a competitor|looking at (?:other|alternatives)|started looking at other)"),
    ("integration", r"\b(?:recommended (?:it|you|them|\w+) to|(?:my|a) referral (?:code|link)|refer[- ]a[- ]friend|"
                    r"got (?:my|our) \w+(?:-in-law)? (?:into|onto|using)|(?:i|we) (?:already )?(?:told|refer(?:red)?) "
                    r"(?:my|a|an|two|three|four|five|several|other|everyone|people|friends?|all)\b|"
                    r"backbone of|runs through|look like (?:a|an) (?:real|proper|bigger|serious) (?:company|business)|"
                    r"i already have\b|signed up because of (?:me|my)|"
                    r"(?:(?:i|we) (?:now )?|makes? me |made me )feel like (?:i'm|i am|we're|a|an|i run|we run)|"
                    r"gave me my \w+ back|made me feel|(?:i'm|i am) a business now|treat me differently|"
                    r"uses? it now because of me)"),
    ("interpretation", r"\b(?:(?<!auto-)(?<!auto )renewed|we renew|decided to renew|"
                       r"(?:i'd|i would|i'll|i will) (?:give (?:it|\w+)|rate it|say) (?:a|an) \w+|"
                       r"^(?:today,? |honestly,? )?(?:an? )?(?:zero|one|two|three|four|five|six|seven|eight|nine|ten)[.!]|"
                       r"\b(?:a|an) (?:zero|one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})(?=[.,!?;]|$| out of)|"
                       r"(?:wouldn't|won't|would not|will not|never) (?:go|shop|buy) anywhere else|"
                       r"worth every|pays for itself|best (?:money|thing|decision|software decision)|good value|"
                       r"(?:a|an) (?:\w+|\d+) out of (?:ten|10)|\d+/10\b|(?:would|i'd|i would|i'll) recommend|"
                       r"worth (?:it|every)|the reason we renewed|why we renewed|we're staying|so i stay|so we stay)"),
    ("investment", r"\b(?:signed (?:up|for|that|the|a|on)|we signed|i signed|bought|purchased|subscribed|converted|"
                   r"(?:decided|chose) to (?:buy|go with|sign)|committed to|started (?:the|a) (?:free )?trial|"
                   r"booked (?:a|the) (?:trial|demo)|paid for|(?:i|we) (?:then )?ordered|placed (?:an|the|my|our) order)"),
    ("intention", r"\b(?:started looking|began looking|decided (?:to look|we needed|i needed|to get|to find)|asked around|"
                  r"asked (?:a friend|a mate|people|my (?:friends?|peers?|network))|(?:a |partner )?referral from|"
                  r"posted asking|searched for|shortlist(?:ed)?|(?:i|we) (?:looked|compared) (?:at|around)|"
                  r"wanted (?:a way|something)|needed (?:a way|something|to find)|went looking)"),
    ("inciting incident", r"\b(?:that was the (?:moment|night|day|push|last straw)|that's when (?:i|we) (?:knew|said|decided)|"
                          r"the last straw|was the push|the moment was|that one stung|"
                          r"(?:i|we) knew (?:i|we) had to|after that,? (?:i|we) (?:wanted|decided|started)|"
                          r"(?:nearly|almost) (?:fired|lost)|we lost (?:that|the|a) (?:account|job|customer))"),
)
COMPILED_DECISIONS = tuple((t, re.compile(p, re.I)) for t, p in DECISION_CUES)

# Renewing and recommending are interpretation decisions (they end Engagement); advocacy,
# identity change and leaving belong to Transformation.
PHASE_CUES: tuple[tuple[str, str], ...] = (
    ("Transformation", r"\b(?:cancel\w*|switch(?:ed|ing) to|recommended (?:it |us |them )?to|feel like|"
                       r"changed (?:my|our)|gave me|my life|no longer|now i'm|i'm a business|because of me)"),
    ("Challenge", r"\b(?:look(?:ed|ing)? (?:at|for|around|into)|compar\w+|shortlist\w*|evaluat\w*|demo\b|trial\b|"
                  r"reviews?\b|research(?:ed|ing)?\b|asked (?:around|a friend)|hear(?:d)? (?:about|of)|"
                  r"found (?:it|you|them|us|out about)|pricing page|end(?:ed)? up (?:at|with|buying|choosing)|"
                  r"(?:visit\w*|went (?:in)?to) (?:a |the |your )?(?:showroom|store|shop)|(?:the|my|our) purchase|"
                  r"sales ?(?:rep|call|person)|"
                  r"decid\w+|chose|choos\w+|signed)"),
    ("Imbalance", r"\b(?:before (?:this|that|we (?:had|got|used|found|switched)|i (?:had|got|used|found|switched))|"
                  r"used to|back then|we were (?:on|using|losing|drowning)|i was (?:spending|doing|losing|exhausted)|"
                  r"couldn't keep up|the problem was|losing (?:work|jobs|paperwork))"),
    ("Engagement", r"\b(?:onboarding|set ?up|day[- ]to[- ]day|daily|every (?:day|morning|week)|support|import\w*|"
                   r"(?:the|our) app\b|using it|since then|first (?:week|month)|renew\w*|recommend\w*|out of (?:ten|10))"),
)
COMPILED_PHASES = tuple((ph, re.compile(p, re.I)) for ph, p in PHASE_CUES)

# Where a touchpoint usually sits when the words do not say: (phase, classic stage).
TOUCHPOINT_STAGE: dict[str, tuple[str, str]] = {
    "Advertising": ("Challenge", "Awareness"), "Word of mouth and referrals": ("Challenge", "Awareness"),
    "Review sites": ("Challenge", "Awareness"), "Community and social media": ("Challenge", "Awareness"),
    "Website": ("Challenge", "Consideration"), "Pricing page": ("Challenge", "Consideration"),
    "Free trial": ("Challenge", "Consideration"), "Sales demo and calls": ("Challenge", "Consideration"),
    "Contract and terms": ("Challenge", "Acquisition"), "Onboarding and setup": ("Engagement", "Service"),
    "Data import and migration": ("Engagement", "Service"), "Renewal": ("Engagement", "Loyalty"),
    "Cancellation": ("Transformation", "Loyalty"), "Account manager": ("Engagement", "Loyalty"),
}
PHASE_STAGE = {"Imbalance": "Awareness", "Challenge": "Consideration", "Engagement": "Service",
               "Transformation": "Loyalty", "unknown": "unknown"}
PRE_PURCHASE = {"Awareness", "Consideration", "Acquisition"}
# Where a record sits when nothing in it is placed: surveys and tickets come from customers
# using the product, sales notes from the evaluation before the purchase.
SOURCE_PHASE = {"nps": "Engagement", "feedback": "Engagement", "support": "Engagement", "sales": "Challenge"}


# A decision is the respondent's own, stated as made: not someone else's ("they cancelled my
# slot", "my sister bought one"), not a hypothetical ("I'd quit if we switched", "if you'd told
# me, I'd still have bought it"), not one denied ("never bought it"). Ratings and renewals
# (interpretation) are judgements, and "I'd give it a nine" is one.
AUX = r"\s+(?:(?:just|also|then|had|have|has|already)\s+)*$"
# capitalised words that open a sentence without being anyone's name
SENTENCE_OPENERS = ("Please", "Just", "So", "Then", "Now", "Today", "Yesterday", "Honestly", "Finally", "And", "But",
                    "Also", "Eventually", "Basically", "Actually", "Frankly", "Still", "Yes", "No", "Well", "Okay",
                    "Ok", "Last", "Next", "Soon", "Later", "Once", "After", "Before", "When")
SOMEONE_ELSE = re.compile(r"(?:(?i:\b(?:they|he|she|it|someone|everyone|who|you)|\b(?:my|our|his|her|their|the) (?:\w+-)*\w+)"
                          r"|\b(?!(?:I|We|" + "|".join(SENTENCE_OPENERS) + r")\b)[A-Z][a-z]+(?:[-'][a-z]+)*)" + AUX)
HYPOTHETICAL = re.compile(r"\b(?:if|unless|would|might|i'd|we'd|she'd|he'd|they'd|you'd)\b", re.I)
DENIED = re.compile(r"\b(?:never|not|didn't|did not|haven't|have not|hadn't|nobody|no one)\s+(?:\w+\s+)?$", re.I)
JUDGEMENTS = {"interpretation"}
# A survey answer or a ticket is written after the purchase: a purchase or a plan it recounts
# ("Bought a bed this time.", "We ordered the sofa in Oat and received Clay") is its background,
# not a decision it states, unless it says why ("We signed up because the demo was quick").
AFTER_PURCHASE = {"nps", "feedback", "support"}
BEFORE_THE_SOURCE = {"intention", "investment"}
TOLD_WHY = re.compile(r"\b(?:because|reason|after|since|so that|thanks to|due to|(?:it|them|us) for)\b", re.I)
HAPPENS_TO_THEM = {"inciting incident"}  # "they nearly fired us": others act, the customer is struck
OWN_WORDS = {"integration"}  # advocacy is about others by nature: "my sister bought one on my code"


def decision_in(text: str, notes: bool = False) -> str | None:
    """The decision a customer's sentence states, if any. In `notes` (a sales rep's CRM notes,
    written about the customer) the customer is the third person: "Luis signed"."""
    for kind, pattern in COMPILED_DECISIONS:
        for m in pattern.finditer(text):
            before = text[:m.start()]
            if kind in JUDGEMENTS or kind in OWN_WORDS and not DENIED.search(before):
                return kind
            own = re.match(r"(?i)(?:i|we)\b", m.group(0))  # the cue names its subject: "we signed"
            mine = own or notes or kind in HAPPENS_TO_THEM
            if (not mine and SOMEONE_ELSE.search(before)) or DENIED.search(before) \
                    or HYPOTHETICAL.search(text):
                continue
            return kind
    return None


def place(text: str, touchpoint: str | None = None, phase: str | None = None, asked: str | None = None) -> Placement:
    """In the phase given (a model's), else in the phase the words say, else the phase of the
    question they answer ("How did you go about choosing?"), else where the touchpoint usually
    sits; the stage and purchase side follow from the phase."""
    if phase is None:
        decided = decision_in(text)
        phase = DECISION_PHASE[decided] if decided else next(
            (ph for said in (text, asked or "") for ph, pattern in COMPILED_PHASES if pattern.search(said)), None)
    default_phase, default_stage = TOUCHPOINT_STAGE.get(touchpoint or "", ("Engagement", "Service")) \
        if touchpoint else ("unknown", "unknown")
    phase = phase or default_phase
    stage = default_stage if touchpoint in TOUCHPOINT_STAGE and phase == default_phase else PHASE_STAGE[phase]
    purchase = "unknown" if stage == "unknown" else "pre" if stage in PRE_PURCHASE else "post"
    return Placement(phase=phase, stage=stage, purchase=purchase)


def detect_decisions(records: list[Record], mentions: list[Mention], persona_of: dict[str, str]) -> list[Decision]:
    """Pivotal decisions with their quote and the touchpoints in the same clause (or, in a
    conversation, the same turn). Sales outcomes are investment decisions in themselves."""
    by_record: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_record[m.record_id].append(m)
    out = []
    for r in records:
        # One-word sentences count here: "Cancelling." or "Ten." is a decision.
        found: list[tuple[Clause, str]] = [(c, d) for c in clauses(r, min_words=1) if not NOT_EVIDENCE.search(c.text)
                                           and (d := decision_in(c.text, notes=r.kind == "sales"))
                                           and not (d in BEFORE_THE_SOURCE and r.kind in AFTER_PURCHASE
                                                    and not TOLD_WHY.search(c.text))]
        if r.kind == "sales" and r.fields.get("outcome") in ("won", "lost") and not any(
                d in ("investment", "churn") for _, d in found):
            reason = next((c for c in clauses(r) if re.match(r"(?:won|lost)? ?reason", c.text, re.I)), None)
            reason = reason or next(iter(clauses(r)), None)
            if reason:
                renewal = is_renewal(r)
                lost = r.fields["outcome"] == "lost"
                found.append((reason, "churn" if renewal and lost else "interpretation" if renewal else "investment"))
        for position, (c, kind) in enumerate(sorted(found, key=lambda cd: cd[0].start)):
            turn = next(((t.start, t.end) for t in r.turns if t.start <= c.start < t.end), (c.start, c.end))
            involved = sorted({m.touchpoint for m in by_record[r.record_id]
                               if m.start < turn[1] and turn[0] < m.end})
            out.append(Decision(persona=persona_of.get(r.record_id, ""), record_id=r.record_id, kind=r.kind,
                                respondent=r.respondent, decision=kind, phase=DECISION_PHASE[kind],
                                outcome=r.fields.get("outcome", "") if r.kind == "sales" else "",
                                quote=c.text, start=c.start, end=c.end, position=position, touchpoints=involved))
    return out


def triggers(decisions: list[Decision]) -> dict[str, dict[str, dict]]:
    """Per persona and decision: how often, from how many records, the touchpoints most often
    involved, and example quotes: what typically triggers each decision."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    grouped: dict[tuple[str, str], list[Decision]] = defaultdict(list)
    for d in decisions:
        grouped[(d.persona, d.decision)].append(d)
    for (persona, kind), ds in grouped.items():
        out[persona][kind] = {
            "count": len(ds), "records": len({d.record_id for d in ds}),
            "touchpoints": Counter(t for d in ds for t in d.touchpoints).most_common(3),
            "examples": [(d.record_id, d.quote) for d in ds[:3]],
        }
    return out


def journey(corpus: Corpus, catalogue: Coding, personas: Personas) -> Journey:
    """Each mention placed in a phase and stage, for its record's persona; the decisions. Where
    a model read the mentions and placed them, its phases and the decisions it found in their
    quotes are used (the CRM's won and lost outcomes still count); the cues place the rest."""
    persona_of = personas.persona_of
    # Equal placements are one object: the mentions fall into a few dozen persona, phase and
    # stage cells, and 400,000 copies would hold some 200 MiB. (Nothing changes a placement.)
    cells: dict[tuple, Placement] = {}
    placements = []
    for m in catalogue.mentions:
        # an interviewer's questions walk the journey in order; an agent's replies do not
        question = asked(corpus.by_id[m.record_id], m.start) if m.kind == "interview" and m.record_id in corpus.by_id \
            else None
        p = place(m.quote, m.touchpoint, DECISION_PHASE[m.decision] if m.decision else m.phase, question)
        key = (persona_of.get(m.record_id), p.phase, p.stage, p.purchase)
        placements.append(cells.get(key) or cells.setdefault(key, p.model_copy(update={"persona": key[0]})))
    records = list(corpus.records)
    # A model that placed nothing (one that ignores the fields) leaves the decisions to the cues.
    if any(m.engine == "llm" and (m.phase or m.decision) for m in catalogue.mentions):
        decisions = model_decisions(records, catalogue.mentions, persona_of)
    else:
        decisions = detect_decisions(records, catalogue.mentions, persona_of)
    return Journey(placements=placements, decisions=decisions, steps=steps(records, catalogue.mentions))


def steps(records: list[Record], mentions: list[Mention]) -> list[Step]:
    """Which touchpoint customers meet next: within an interview in the order they tell it,
    across a customer's records (same respondent, else account) in date order; weighted by
    how many customers take the step. Touchpoints of one survey answer or ticket come at one
    moment, in no order among themselves; an undated record orders nothing across records."""
    by_record: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_record[m.record_id].append(m)
    # A customer with one survey answer or ticket (one moment) takes no step: only the others'
    # moments are gathered, where a million one-off responses would hold some 400 MiB of them.
    told_by = Counter(_customer(r) for r in records if r.record_id in by_record)
    journeys: dict[str, list[tuple[str, list[set[str]]]]] = defaultdict(list)  # customer -> (date, moments)
    for r in records:
        told = sorted(by_record.get(r.record_id, ()), key=lambda m: m.start)
        if not told or (r.kind != "interview" and told_by[_customer(r)] == 1):
            continue
        moments = [{m.touchpoint} for m in told] if r.kind == "interview" else [{m.touchpoint for m in told}]
        journeys[_customer(r)].append((r.date or "", moments))
    taken: Counter = Counter()
    for visits in journeys.values():
        dated = sorted((v for v in visits if v[0]), key=lambda v: v[0])
        sequences = [[m for _, moments in dated for m in moments]] + [moments for date, moments in visits if not date]
        mine = {(a, b) for seq in sequences for here, then in zip(seq, seq[1:], strict=False)
                for a in here for b in then if a != b}
        taken.update(mine)
    return [Step(a=a, b=b, customers=n) for (a, b), n in sorted(taken.items(), key=lambda kv: (-kv[1], kv[0]))]


def _customer(r: Record) -> str:
    """Whose journey a record is part of: its respondent's, else its account's, else its own."""
    return r.respondent or r.account or r.record_id


def model_decisions(records: list[Record], mentions: list[Mention], persona_of: dict[str, str]) -> list[Decision]:
    """Decisions a model found in its mentions' quotes (one per quote), with the CRM's won and
    lost outcomes for the records it found none in; numbered in the record's order."""
    by_record: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_record[m.record_id].append(m)
    crm: dict[str, list[Decision]] = defaultdict(list)
    for d in detect_decisions([r for r in records if r.kind == "sales"], mentions, persona_of):
        crm[d.record_id].append(d)
    out = []
    for r in records:
        said = {(m.start, m.end): m for m in by_record[r.record_id] if m.decision}
        if not said and r.record_id in crm:
            out += crm[r.record_id]
            continue
        for position, m in enumerate(sorted(said.values(), key=lambda m: m.start)):
            involved = sorted({x.touchpoint for x in by_record[r.record_id] if (x.start, x.end) == (m.start, m.end)})
            out.append(Decision(persona=persona_of.get(r.record_id, ""), record_id=r.record_id, kind=r.kind,
                                respondent=r.respondent, decision=m.decision, phase=DECISION_PHASE[m.decision],
                                outcome=r.fields.get("outcome", "") if r.kind == "sales" else "",
                                quote=m.quote, start=m.start, end=m.end, position=position, touchpoints=involved))
    return out


STAGE = stages.register("journey")(Stage(
    name="journey", needs=("corpus", "catalogue", "personas"), produces=Journey, version="journey.5",
    offline=journey))
