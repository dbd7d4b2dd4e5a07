"""What the guided audit keeps between steps, and what it shows: the owner's answers (business
type, touchpoints, ratings) and the findings computed from their customers' words."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from valuestory.pipeline.artefacts import CitedSpan, TouchpointDef
from valuestory.stats import Interval

from .ideas import AuditIdea

STEPS = ("business", "words", "map", "scores", "fix", "ideas", "print")
Scale = int  # 1 (very poor, rare, minor) .. 5 (excellent, constant, critical)


class Rating(BaseModel):
    """The owner's own rating of a touchpoint on the four dimensions, 1-5, where data is missing."""
    emotional: Scale | None = Field(default=None, ge=1, le=5)
    functional: Scale | None = Field(default=None, ge=1, le=5)
    frequency: Scale | None = Field(default=None, ge=1, le=5)
    business: Scale | None = Field(default=None, ge=1, le=5)


class AuditTouchpoint(BaseModel):
    definition: TouchpointDef
    listed: bool = True  # the owner's; False: a library one they removed (still matched, shown as missing)
    view: Scale | None = Field(default=None, ge=1, le=5)  # how the owner thinks customers find it: the intent
    rating: Rating = Rating()

    @property
    def name(self) -> str:
        return self.definition.name


class Snapshot(BaseModel):
    """A quarter's findings, kept so the next one can say what changed."""
    at: str
    records: int
    emotional: dict[str, float]  # touchpoint -> emotional impact from the data
    fix_first: list[str]


class AuditState(BaseModel):
    business_type: str = "other"
    channels: list[str] = []
    size: str = ""
    touchpoints: list[AuditTouchpoint] = []
    uploads: list[str] = []  # files taken, as shown (redacted) names
    done: list[str] = []  # steps completed
    history: list[Snapshot] = []
    analysed: str = ""  # what the latest run was made from (touchpoints and data): a change runs again

    def listed(self) -> list[AuditTouchpoint]:
        return [t for t in self.touchpoints if t.listed]


class Scored(BaseModel):
    name: str
    phase: str
    source: Literal["data", "owner", "none"]  # computed from customers' words, rated by the owner, or neither
    mentions: int = 0
    records: int = 0
    emotional: Interval = Interval(value=None)  # -1..1 from the data
    functional: Interval = Interval(value=None)
    functional_said: int = 0  # mentions that say whether it did its job
    frequency: float | None = None
    business_impact: float | None = None
    # star ratings (reviews): the mean of the customers who mention it against the rest's
    stars: Interval = Interval(value=None)  # mentioners minus the rest
    stars_mentioners: float | None = None
    stars_others: float | None = None
    stars_rated: int = 0  # mentioning records that carry a rating
    stars_scale: str | None = None
    rating: Rating = Rating()
    view: Scale | None = None
    gap: float | None = None  # the owner's view minus what customers report, on the 1-5 scale
    effort: str = "medium"
    decisions: dict[str, int] = {}  # buy, come back, recommend, leave -> customers deciding there
    worst: CitedSpan | None = None
    best: CitedSpan | None = None


class Missing(BaseModel):
    name: str
    records: int
    quotes: list[CitedSpan]


class Change(BaseModel):
    touchpoint: str
    before: float | None
    now: float | None


class Findings(BaseModel):
    records: int
    touchpoints: list[Scored]  # in the order customers meet them
    missing: list[Missing]  # mentioned by customers, not on the owner's list
    unmentioned: list[str]  # on the list, mentioned by nobody
    gaps: list[str]  # biggest gaps between the owner's view and customers' reports first
    easy_fixes: list[str]
    fix_first: list[str]  # three at most
    ideas: dict[str, list[AuditIdea]]  # five per touchpoint to fix
    changes: list[Change] = []  # against the last saved quarter
    engine: str = "offline"
