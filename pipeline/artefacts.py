"""Every artefact the method produces, as typed values: what one stage hands the next, what a
run stores, and what the report, the exports and the evaluation harness read back.

A quote is always a `CitedSpan`: the record it comes from and where in that record, never a
string to search for again.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.dataclasses import dataclass

from valuestory.stats import Interval

Polarity = Literal["negative", "neutral", "positive"]
Phase = Literal["Imbalance", "Challenge", "Engagement", "Transformation", "unknown"]
DecisionKind = Literal["inciting incident", "intention", "investment", "interpretation", "integration", "churn"]
DecisionType = Literal["inciting incident", "intention", "investment", "interpretation", "integration", "churn"]
Engine = Literal["offline", "llm"]


class CitedSpan(BaseModel):
    """Words of a record, verbatim: `text == record.text[start:end]`."""
    record_id: str
    start: int
    end: int
    text: str


class CitedItem(BaseModel):
    """A quote about one touchpoint (a value map's high point or friction)."""
    touchpoint: str
    quote: CitedSpan


# --- 1. mentions, 2. catalogue ---------------------------------------------------------------
class TouchpointDef(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    channel: str = "unknown"
    description: str = ""
    cues: tuple[str, ...] = ()  # words and phrases (regex) that name the touchpoint
    examples: tuple[str, ...] = ()
    effort: str = "medium"  # how hard it usually is to improve: low | medium | high
    owner: str = ""
    origin: str = "library"  # library | codebook | discovered | emerging | recoded
    intended: str = ""  # the experience the company intends here (a codebook's `intended` column)
    tags: tuple[str, ...] = ()  # the researcher's own (`valuestory code tag`)


@dataclass(slots=True, kw_only=True)
class Mention:
    """What one piece of customer text says about one touchpoint. A slotted (pydantic)
    dataclass, not a model: a million-response corpus makes two million of them, and a
    model's per-instance dict and field set made each 550 bytes where this takes 180. It
    validates on construction and reads and writes as JSON inside the artefacts as a model
    would, the same fields in the same order."""
    record_id: str
    kind: str
    touchpoint: str
    channel: str | None = None
    quote: str
    start: int
    end: int
    sentiment: Annotated[float, Field(ge=-1, le=1)]
    polarity: Polarity
    did_job: bool | None = None
    confidence: Annotated[float, Field(ge=0, le=1)]
    chunk_id: str | None = None
    engine: str = "offline-v1"
    model: str = ""
    prompt_version: str = ""
    # where a model placed it in the value story, and the decision its quote states (the
    # offline engine leaves both to the journey stage)
    phase: Phase | None = None
    decision: DecisionKind | None = None

    @property
    def span(self) -> CitedSpan:
        return CitedSpan(record_id=self.record_id, start=self.start, end=self.end, text=self.quote)

    @classmethod
    def trusted(cls, **values) -> Mention:
        """A mention an engine built from values it computed itself: not validated again."""
        m = object.__new__(cls)
        for name, default in _MENTION_DEFAULTS:
            object.__setattr__(m, name, default)
        for name, value in values.items():
            object.__setattr__(m, name, value)
        return m

    def model_copy(self, update: dict | None = None) -> Mention:
        """A copy with some fields changed (as a model's `model_copy`, not validated again)."""
        return dataclasses.replace(self, **(update or {}))

    def model_dump(self, include: set[str] | None = None, mode: str = "python") -> dict:
        """Its fields as a dict (as a model's `model_dump`)."""
        return _MENTION.dump_python(self, include=include, mode=mode)


_MENTION = TypeAdapter(Mention)
_MENTION_DEFAULTS = tuple((f.name, f.default) for f in dataclasses.fields(Mention)
                          if f.default is not dataclasses.MISSING)


class EmergingTheme(BaseModel):
    """A recurring theme a codebook does not cover: listed apart, never in mentions or scores
    until the user adds it to the codebook."""
    theme: str
    description: str = ""
    records: list[str]
    quotes: list[CitedSpan]  # a few examples, each from another record


class Mentions(BaseModel):
    """Stage 1: what customer text says about which touchpoint, under the names coders used."""
    mentions: list[Mention]
    touchpoints: list[TouchpointDef]  # the names the mentions use, where already settled
    dropped: int = 0  # model quotes that were not verbatim in their record: counted, never shown
    emerging: list[EmergingTheme] = []
    # per code, the researcher's texts the engine learned from: right, wrong, with a polarity
    learned: dict[str, dict[str, int]] = {}
    # [a, b, verdicts]: the confidences' curve refitted on the researcher's verdicts; [] built-in
    calibration: list[float] = []
    scale: str = ""  # the kind of coding the confidences are of (library, codebook, codebook_examples)


class Coding(BaseModel):
    """Stage 2: the touchpoint catalogue and every mention under a catalogue name; with a
    codebook, the catalogue is the codebook and what it does not cover is `emerging`."""
    touchpoints: list[TouchpointDef]
    mentions: list[Mention]
    dropped: int = 0
    emerging: list[EmergingTheme] = []
    recoded: dict[int, int] = {}  # the researcher's decision number -> mentions it changed in this run
    rejected: int = 0  # mentions the researcher rejected
    learned: dict[str, dict[str, int]] = {}  # as the mentions stage's `learned`
    calibration: list[float] = []  # as the mentions stage's `calibration`
    scale: str = ""  # as the mentions stage's `scale`


# --- 3. scores -------------------------------------------------------------------------------
class TouchpointScore(BaseModel):
    touchpoint: str
    scope: str  # "overall" or a source kind
    mentions: int
    records: int
    respondents: int
    frequency: float  # share of the scope's records that mention it
    emotional_impact: Interval
    functional_performance: Interval
    nps_mentioners: float | None = None
    nps_others: float | None = None
    nps_impact: Interval = Interval(value=None)
    # star ratings and CSAT (reviews, feedback with a score): the mean rating of the records
    # that mention it, of the rest, and the difference (mentioners minus the rest)
    rated_mentioners: int = 0  # its records that carry a rating
    rating_mentioners: float | None = None
    rating_others: float | None = None
    rating_impact: Interval = Interval(value=None)
    rating_scale: str | None = None
    lost_deal_rate: float | None = None
    lost_deal_rate_all: float | None = None
    churn_rate: float | None = None  # lost renewals among the renewals that mention it
    churn_rate_all: float | None = None
    business_impact: float = 0.0
    effort: str = "medium"
    priority: float = 0.0
    rank: int | None = None


class Scorecard(BaseModel):
    scores: list[TouchpointScore]  # overall first, then per kind
    fix_first: list[str]
    easy_fixes: list[str]
    overall_nps: float | None
    nps_respondents: int
    overall_rating: float | None = None  # mean star rating or CSAT, on `rating_scale`
    rating_respondents: int = 0
    rating_scale: str | None = None  # "1-5" or "0-10"


class PersonaScore(BaseModel):
    """A touchpoint as one persona's records score it, and how its emotional impact differs
    from the other personas' mentions (this persona minus the rest)."""
    persona: str
    score: TouchpointScore
    versus_rest: Interval = Interval(value=None)
    differs: bool = False  # the interval of the difference excludes 0


class PersonaScorecards(BaseModel):
    personas: list[str]
    scores: list[PersonaScore]
    fix_first: dict[str, list[str]]  # persona -> its three to fix first


# --- 4. personas -----------------------------------------------------------------------------
class Personas(BaseModel):
    names: list[str]
    persona_of: dict[str, str]  # record id -> persona


# --- promises: expectation vs delivery ------------------------------------------------------
class BrokenPromise(BaseModel):
    touchpoint: str
    source: Literal["sales note", "customer reports", "codebook intended"]
    promise: CitedSpan | None = None  # the words that promise (None for a codebook's intended experience)
    intended: str = ""  # a codebook's intended experience, as the user wrote it
    delivery: CitedSpan  # the most negative later report at the touchpoint, a customer's own words
    match: Literal["same customer", "same persona", "any customer"]
    reports: int  # records with a negative report at the touchpoint in that match


class Promises(BaseModel):
    items: list[BrokenPromise]  # the biggest gaps (most negative reports) first
    reports: dict[str, int] = {}  # touchpoint -> records with a customer's negative report


# --- 5. journey ------------------------------------------------------------------------------
class Placement(BaseModel):
    persona: str | None = None
    phase: Phase
    stage: str
    purchase: Literal["pre", "post", "unknown"]


class Decision(BaseModel):
    persona: str
    record_id: str
    kind: str
    respondent: str | None = None
    decision: DecisionType
    phase: Phase
    outcome: str = ""  # for sales: won, lost
    quote: str
    start: int
    end: int
    position: int  # order within the record: a respondent's journey reads in this order
    touchpoints: list[str] = []

    @property
    def span(self) -> CitedSpan:
        return CitedSpan(record_id=self.record_id, start=self.start, end=self.end, text=self.quote)


class Step(BaseModel):
    """Customers who meet touchpoint `a` and then `b` (in an interview's telling, or in their
    dated records): a link of the network drawn from journeys."""
    a: str
    b: str
    customers: int


class Journey(BaseModel):
    placements: list[Placement]  # one per mention of the coding, in its order
    decisions: list[Decision]
    steps: list[Step] = []  # most customers first


# --- 6. stories ------------------------------------------------------------------------------
class Statement(BaseModel):
    text: str  # a customer's sentence when verbatim, else a drafted reading of the cited records
    records: list[str]
    verbatim: bool = True
    span: CitedSpan | None = None  # where a verbatim statement stands in its record


class Hypothesis(BaseModel):
    persona: str
    decision: str
    context: dict[str, list[Statement]]  # identity, backstory, situation
    motivators: dict[str, list[Statement]]  # functional_goals, rational_approach, social_influences, emotional_drivers
    focus: str  # promotion | prevention | mixed | unknown
    explicit_story: str
    implicit_story: str
    confidence: float
    evidence: list[str]
    engine: str = "offline draft"


class JobDraft(BaseModel):
    """A job before the value map fills it in from the data: its statement, the records that
    express it, and, when a model drafted it, the outcome, value gap and promise it wrote."""
    job: str
    records: set[str]
    statements: int
    desired_outcome: str = ""
    value_gap: CitedSpan | None = None
    value_promise: str = ""


class Focus(BaseModel):
    """Where a persona's value story is told from, chosen from the data (never asked of a model)."""
    phase: Phase | None = None
    decision: DecisionType | None = None  # the pivotal decision that ends the phase, if told enough
    reason: str  # the figures behind the choice


class Moment(BaseModel):
    """A customer describing themselves or their work before, after, or across the change."""
    side: Literal["before", "after", "both"]
    statement: Statement


class TimeToValue(BaseModel):
    """Days from a customer's first purchase (a dated record stating their investment) to the
    first later dated record in which they report value (a positive mention of their own)."""
    customers: int  # customers whose dates allow it
    median_days: float | None = None
    low_days: int | None = None
    high_days: int | None = None
    reason: str


class Brief(BaseModel):
    """What a persona's sensemaking starts from: who they are in the data, the focus phase and
    decision, and the transformational storyline in their words."""
    persona: str
    profile: list[str]  # computed from the records: kinds, segments, fields, scores, touchpoints
    focus: Focus
    storyline: list[Moment]
    time_to_value: TimeToValue | None = None
    storyline_draft: str = ""  # a model's reading of the storyline, labelled a draft
    engine: str = "offline"


class Stories(BaseModel):
    hypotheses: list[Hypothesis]
    jobs: dict[str, list[JobDraft]] = {}  # persona -> jobs a model drafted with the stories
    jobs_engine: str = "offline draft"
    briefs: list[Brief] = []


# --- 7. roles --------------------------------------------------------------------------------
class RoleAssessment(BaseModel):
    persona: str
    phase: str
    role: str
    transactional_role: str
    target_story: str
    assessment: str
    strength: float | None  # mean sentiment of the phase's mentions, -1..1
    mentions: int
    supporting_touchpoints: list[str]
    undermining_touchpoints: list[str]
    engine: str = "offline draft"
    records: int = 0
    verdict: str = ""  # roles.verdict: none below the minimum of evidence
    supporting_quotes: list[CitedSpan] = []
    undermining_quotes: list[CitedSpan] = []


class Roles(BaseModel):
    roles: list[RoleAssessment]


# --- 8. opportunities ------------------------------------------------------------------------
class Opportunity(BaseModel):
    touchpoint: str
    rank: int
    hypothesis: str
    change: str
    resources: str
    success_measure: str
    unintended_consequences: str
    friction: str
    evidence: list[str]  # record ids
    quotes: list[CitedSpan]
    engine: str = "offline draft"


class Opportunities(BaseModel):
    targets: list[str]  # the touchpoints to fix first and the easy fixes, in that order
    items: list[Opportunity]


# --- 9. value map ----------------------------------------------------------------------------
class Job(BaseModel):
    job: str
    desired_outcome: str
    key_touchpoints: list[str]
    high_points: list[CitedItem]
    friction: list[CitedItem]
    value_gap: CitedSpan | None
    internal_processes: list[str]
    opportunities: list[str]
    value_promise: str
    evidence: list[str]
    statements: int  # how many customer sentences express it


class ValueMap(BaseModel):
    persona: str
    empathy_map: dict[str, list[CitedSpan]]
    jobs: list[Job]
    engine: str = "offline draft"


class ValueMaps(BaseModel):
    maps: list[ValueMap]


# --- a run -----------------------------------------------------------------------------------
class Provenance(BaseModel):
    """What made a stage's output: the engine, the stage's version, the model (a chat model,
    or for the offline engine the embedding it read with) and the prompt templates."""
    stage: str
    version: str
    engine: Engine
    model: str = ""
    prompts: list[str] = []
    seconds: float = 0.0


class RunSummary(BaseModel):
    mentions: int
    dropped_quotes: int
    groundedness: float
    fix_first: list[str]
    easy_fixes: list[str]
    overall_nps: float | None
    touchpoints: int
    decisions: int
    slice: str = ""  # the records the run (or this reading of it) covers, when not all of them


class RunInfo(BaseModel):
    run_id: str
    started_at: str | None = None
    finished_at: str | None = None
    engine: str
    model: str
    prompts: dict = {}
    inputs: dict = {}
    codebook: str | None = None
    status: str = ""
    summary: RunSummary | None = None

    @property
    def offline(self) -> bool:
        return self.engine == "offline"


# The artefact each stage produces, by stage name: how a stored output is read back.
ARTEFACTS: dict[str, type[BaseModel]] = {
    "mentions": Mentions, "catalogue": Coding, "scores": Scorecard, "personas": Personas,
    "promises": Promises, "journey": Journey, "stories": Stories, "roles": Roles, "opportunities": Opportunities,
    "valuemap": ValueMaps,
}
