"""Stage 4, personas: who each value story is told for.

From `[[personas]]` in valuestory.toml (a name, a description, and a filter on record
fields); else one persona per segment that enough records carry; else one for everyone.
Records that fit no persona are kept under "Unassigned", never dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from valuestory.config import PersonaSection
from valuestory.records import Record

from .artefacts import Personas
from .contract import Corpus, Stage, stages

EVERYONE = "All customers"
UNASSIGNED = "Unassigned"


@dataclass(frozen=True)
class Persona:
    name: str
    description: str = ""
    where: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def matches(self, record: Record) -> bool:
        return all(_value(record, key).casefold() in {v.casefold() for v in values}
                   for key, values in self.where.items())


def _value(record: Record, key: str) -> str:
    if key in ("segment", "kind", "account", "respondent", "source"):
        return getattr(record, key) or ""
    lowered = {k.casefold(): v for k, v in record.fields.items()}
    return lowered.get(key.casefold(), "")


def personas_for(records: list[Record], declared: list[PersonaSection], min_records: int = 5) -> list[Persona]:
    if declared:
        return [Persona(p.name, p.description, {k: tuple([v] if isinstance(v, str) else v)
                                                for k, v in p.where.items()}) for p in declared]
    segments = Counter(r.segment for r in records if r.segment)
    found = [Persona(s, f"Customers in the segment {s}", {"segment": (s,)})
             for s, n in segments.most_common() if n >= min_records]
    return found or [Persona(EVERYONE, "Every customer in the data")]


def assign(records: list[Record], personas: list[Persona]) -> dict[str, str]:
    """record id -> persona name: the first persona whose filter the record fits."""
    out = {}
    for r in records:
        out[r.record_id] = next((p.name for p in personas if not p.where or p.matches(r)), UNASSIGNED)
    return out


def personas(corpus: Corpus) -> Personas:
    records = list(corpus.records)
    found = personas_for(records, list(corpus.personas))
    persona_of = assign(records, found)
    return Personas(names=[p.name for p in found], persona_of=persona_of)


STAGE = stages.register("personas")(Stage(
    name="personas", needs=("corpus",), produces=Personas, version="personas.1", offline=personas))
