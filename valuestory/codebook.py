"""A codebook: the user's touchpoints, read from YAML or CSV. Reading it is the run's I/O; the
stages get the parsed touchpoints."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml

from valuestory.errors import InputError
from valuestory.pipeline.artefacts import TouchpointDef

NAME_COLUMNS = ("name", "touchpoint")  # a labels catalogue (touchpoint, code, description) reads as is


def load_codebook(path: Path) -> list[TouchpointDef]:
    """A codebook as YAML (a list of {name, description, examples, channel, owner, effort,
    intended, tags}) or CSV with those columns (examples and tags separated by ' | '; the name
    column may be called `touchpoint`). Only the name is required."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the codebook ({exc})", path=str(path),
                         hint="Give a UTF-8 YAML or CSV file") from None
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        columns = [c.strip().lower() for c in reader.fieldnames or [] if c]
        name_column = next((c for c in NAME_COLUMNS if c in columns), None)
        if name_column is None:
            raise InputError(f"no name column (the columns are: {', '.join(columns) or 'none'})", path=str(path), line=1,
                             hint="Name the column of code names 'name' (or 'touchpoint'); description, examples, "
                                  "channel, owner, effort and intended are optional")
        entries = [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in reader]
        for e in entries:
            e["name"] = e.get(name_column, "")
            e["examples"] = [x.strip() for x in e.get("examples", "").split(" | ") if x.strip()]
            e["tags"] = [x.strip() for x in e.get("tags", "").split(" | ") if x.strip()]
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML ({exc})", path=str(path), hint="Fix the file") from None
        if isinstance(data, dict):
            data = data.get("touchpoints", data)
        if not isinstance(data, list):
            raise InputError("expected a list of touchpoints", path=str(path),
                             hint="Write a YAML list: - name: Pricing page")
        entries = [d if isinstance(d, dict) else {"name": str(d)} for d in data]
    out, seen = [], set()
    for n, e in enumerate(entries, start=1):
        name = str(e.get("name") or "").strip()
        if not name:
            raise InputError(f"touchpoint {n} has no name", path=str(path), line=n if path.suffix.lower() != ".csv" else n + 1,
                             hint="Every touchpoint needs a name; the other fields are optional")
        if name.lower() in seen:
            raise InputError(f"touchpoint '{name}' appears twice", path=str(path), hint="Merge the two entries")
        seen.add(name.lower())
        examples = e.get("examples") or []
        examples = [examples] if isinstance(examples, str) else [str(x) for x in examples]
        tags = e.get("tags") or []
        tags = [tags] if isinstance(tags, str) else [str(x) for x in tags]
        effort = str(e.get("effort") or "medium").lower()
        if effort not in ("low", "medium", "high"):
            raise InputError(f"touchpoint '{name}': effort '{effort}' is not low, medium or high",
                             path=str(path), hint="Use low, medium or high")
        out.append(TouchpointDef(name=name, channel=str(e.get("channel") or "unknown"),
                                 description=str(e.get("description") or name),
                                 examples=tuple(examples), effort=effort, owner=str(e.get("owner") or ""),
                                 intended=str(e.get("intended") or "").strip(), tags=tuple(tags), origin="codebook"))
    return out


