"""Evaluation datasets: a corpus and its hand labels, read and checked.

A dataset folder holds `corpus/` (the inputs, as `valuestory ingest` takes them) and
`labels/` with `labels.csv` (one row per unit and touchpoint), `catalogue.csv` (the touchpoint
names labellers use, with a description and optionally examples separated by ` | `: the
dataset's codebook for `valuestory eval --codebook`) and optionally `personas.yaml` (priorities, decisions and jobs per
persona). See data_samples/labels/README.md for the format.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from valuestory.errors import InputError

PHASES = ("Imbalance", "Challenge", "Engagement", "Transformation", "unknown")
DECISIONS = ("inciting incident", "intention", "investment", "interpretation", "integration", "churn")
POLARITIES = {"negative": -1, "neutral": 0, "positive": 1}


@dataclass
class GoldUnit:
    unit: str
    record_id: str
    turn: int | None  # index into the record's turns, for interview units
    split: str = ""
    phase: str | None = None  # None: not labelled
    decisions: set[str] = field(default_factory=set)
    touchpoints: dict[str, int] = field(default_factory=dict)  # name -> sentiment -2..2

    @property
    def kind(self) -> str:
        return self.record_id.split(":", 1)[0]


@dataclass
class GoldPersona:
    name: str
    top_touchpoints: list[str]
    decisions: list[str]
    jobs: list[str]


@dataclass
class Dataset:
    root: Path
    corpus: Path
    units: list[GoldUnit]
    catalogue: list[str]
    descriptions: dict[str, str]
    priority: list[str]
    personas: list[GoldPersona]
    examples: dict[str, list[str]] = field(default_factory=dict)  # catalogue name -> example phrasings

    def split(self, name: str | None) -> list[GoldUnit]:
        return [u for u in self.units if name in (None, "all") or u.split == name]

    def with_record_ids(self, renamed: dict[str, str]) -> Dataset:
        """The labels with their records' ids as stored: ingest redacts an id that holds an
        email or a participant's name (a file named after the interviewee), and labels name
        records as their files do."""
        def moved(u: GoldUnit) -> GoldUnit:
            rid = renamed.get(u.record_id, u.record_id)
            return replace(u, record_id=rid, unit=rid + u.unit[len(u.record_id):] if u.unit.startswith(u.record_id)
                           else u.unit)
        return replace(self, units=[moved(u) for u in self.units]) if renamed else self


def load_dataset(root: Path) -> Dataset:
    labels_dir = root / "labels"
    labels, catalogue_file = labels_dir / "labels.csv", labels_dir / "catalogue.csv"
    for path in (root / "corpus", labels, catalogue_file):
        if not path.exists():
            raise InputError("missing from the dataset", path=str(path),
                             hint="A dataset holds corpus/ and labels/labels.csv, labels/catalogue.csv")
    catalogue_rows = _rows(catalogue_file, ["touchpoint"])
    catalogue = [row["touchpoint"].strip() for row in catalogue_rows]
    descriptions = {row["touchpoint"].strip(): row.get("description", "").strip() for row in catalogue_rows}
    examples = {row["touchpoint"].strip(): [x.strip() for x in row.get("examples", "").split(" | ") if x.strip()]
                for row in catalogue_rows}
    known = set(catalogue)
    units: dict[str, GoldUnit] = {}
    for line, row in enumerate(_rows(labels, ["unit", "record_id", "split", "phase", "touchpoint", "sentiment"]),
                               start=2):
        def bad(what: str, column: str, hint: str, line: int = line) -> InputError:
            return InputError(what, path=str(labels), line=line, column=column, hint=hint)
        unit = units.get(row["unit"])
        if unit is None:
            turn = row.get("turn", "").strip()
            if turn and not (turn.startswith("t") and turn[1:].isdigit()):
                raise bad(f"turn {turn!r} is not t<number>", "turn", "Write the turn's index, e.g. t3")
            phase = row["phase"].strip()
            if phase not in PHASES:
                raise bad(f"phase {phase!r} is not one of {', '.join(PHASES)}", "phase", "Use one of the five phases")
            decisions = {d.strip() for d in row.get("decisions", "").split(";") if d.strip()}
            if unknown := decisions - set(DECISIONS):
                raise bad(f"unknown decision {sorted(unknown)[0]!r}", "decisions", f"Use: {', '.join(DECISIONS)}")
            unit = units[row["unit"]] = GoldUnit(row["unit"], row["record_id"].strip(), int(turn[1:]) if turn else None,
                                                 row["split"].strip(), phase, decisions)
        name = row["touchpoint"].strip()
        if name:
            if name not in known:
                raise bad(f"touchpoint {name!r} is not in catalogue.csv", "touchpoint", "Add it to the catalogue or fix the name")
            try:
                sentiment = int(row["sentiment"])
                assert -2 <= sentiment <= 2
            except (ValueError, AssertionError):
                raise bad(f"sentiment {row['sentiment']!r} is not an integer from -2 to 2", "sentiment",
                          "-2 very negative … 2 very positive") from None
            unit.touchpoints[name] = sentiment
    priority, personas = [], []
    persona_file = labels_dir / "personas.yaml"
    if persona_file.exists():
        data = yaml.safe_load(persona_file.read_text(encoding="utf-8")) or {}
        priority = list(data.get("priority") or [])
        personas = [GoldPersona(p["name"], list(p.get("top_touchpoints") or []), list(p.get("decisions") or []),
                                list(p.get("jobs") or [])) for p in data.get("personas") or []]
        if unknown := [t for t in priority + [t for p in personas for t in p.top_touchpoints] if t not in known]:
            raise InputError(f"touchpoint {unknown[0]!r} is not in catalogue.csv", path=str(persona_file),
                             hint="Use the catalogue's names")
    return Dataset(root, root / "corpus", list(units.values()), catalogue, descriptions, priority, personas, examples)


def load_user_labels(path: Path) -> list[GoldUnit]:
    """A researcher's own coding of records in their project: columns `record_id, touchpoint,
    polarity, phase, decision` (any but record_id may be blank or absent), one row per record
    and touchpoint; decisions separated by `;`."""
    units: dict[str, GoldUnit] = {}
    for line, row in enumerate(_rows(path, ["record_id"]), start=2):
        rid = row["record_id"].strip()
        if not rid:
            raise InputError("record_id is empty", path=str(path), line=line, column="record_id",
                             hint="Copy record ids from `valuestory export records`")
        unit = units.setdefault(rid, GoldUnit(rid, rid, None))
        phase = (row.get("phase") or "").strip()
        if phase:
            if phase not in PHASES:
                raise InputError(f"phase {phase!r} is not one of {', '.join(PHASES)}", path=str(path), line=line,
                                 column="phase", hint="Use one of the five phases, or leave it blank")
            unit.phase = phase
        said = {d.strip().lower() for d in (row.get("decision") or row.get("decisions") or "").split(";") if d.strip()}
        if unknown := said - set(DECISIONS):
            raise InputError(f"decision {sorted(unknown)[0]!r} is not one of {', '.join(DECISIONS)}", path=str(path),
                             line=line, column="decision", hint="Use those names, separated by ;, or leave it blank")
        unit.decisions |= said
        name = (row.get("touchpoint") or "").strip()
        if name:
            polarity = (row.get("polarity") or "").strip().lower()
            if polarity and polarity not in POLARITIES:
                raise InputError(f"polarity {polarity!r} is not negative, neutral or positive", path=str(path),
                                 line=line, column="polarity", hint="Use negative, neutral or positive, or leave it blank")
            unit.touchpoints[name] = 2 * POLARITIES[polarity] if polarity else None  # type: ignore[assignment]
    return list(units.values())


def _rows(path: Path, required: list[str]) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            if missing := [c for c in required if c not in header]:
                raise InputError(f"no column {missing[0]!r}", path=str(path), line=1, column=missing[0],
                                 hint=f"The header needs: {', '.join(required)}")
            return [{(k or "").strip(): (v or "") for k, v in row.items()} for row in reader]
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=str(path), hint="Save the file as UTF-8 CSV") from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", path=str(path), hint="Check the path") from None
