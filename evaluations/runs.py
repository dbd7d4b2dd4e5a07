"""Eval runs as data: saved as JSON under the project's store, compared, and held against
the thresholds of the regression gate."""

from __future__ import annotations

import json
import tomllib
from importlib.resources import files
from pathlib import Path

from valuestory.errors import ValuestoryError
from valuestory.stats import Interval

HEADLINE = ("touchpoint_f1", "touchpoint_precision", "touchpoint_recall", "touchpoint_macro_f1", "polarity_accuracy",
            "polarity_macro_f1", "sentiment_mae", "confidence_ece", "phase_accuracy", "phase_macro_f1", "phase_kappa",
            "decision_f1", "decision_precision", "decision_recall", "groundedness", "priority_spearman", "priority_overlap",
            "job_match", "catalogue_precision", "catalogue_coverage", "codebook_share")
LOWER_IS_BETTER = {"sentiment_mae", "confidence_ece"}


def to_json(report: dict) -> dict:
    """Estimates as {"value", "ci_low", "ci_high", "n"}."""
    def plain(v):
        if isinstance(v, Interval):
            return {"value": v.value, "ci_low": v.low, "ci_high": v.high, "n": v.n or 0}
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v
    return plain(report)


def save(report: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{report['eval_id']}.json"
    path.write_text(json.dumps(to_json(report), indent=1), encoding="utf-8")
    return path


def load(ref: str, folder: Path) -> dict:
    """An eval run by its id (in `folder`) or by the path of its JSON file."""
    path = Path(ref)
    if not path.exists():
        matches = sorted(folder.glob(f"{ref}*.json")) if folder.exists() else []
        if len(matches) != 1:
            known = ", ".join(p.stem for p in sorted(folder.glob("*.json"))[-5:]) if folder.exists() else ""
            raise ValuestoryError(f"No single eval run matches {ref!r}"
                                  + (f"; recent ones: {known}" if known else "; run `valuestory eval` first"))
        path = matches[0]
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValuestoryError(f"{path}: not an eval run ({exc})") from None


def compare(a: dict, b: dict) -> list[dict]:
    """Metric by metric: both values, the difference, and whether it is outside the
    intervals (each value outside the other's interval), so not plausibly noise."""
    rows = []
    for name in [m for m in HEADLINE if m in a["metrics"] or m in b["metrics"]]:
        x, y = a["metrics"].get(name) or {}, b["metrics"].get(name) or {}
        va, vb = x.get("value"), y.get("value")
        diff = vb - va if va is not None and vb is not None else None
        outside = None
        if diff is not None and None not in (x.get("ci_low"), x.get("ci_high"), y.get("ci_low"), y.get("ci_high")):
            outside = not (x["ci_low"] <= vb <= x["ci_high"]) and not (y["ci_low"] <= va <= y["ci_high"])
        rows.append({"metric": name, "a": va, "b": vb, "difference": diff, "outside_intervals": outside})
    return rows


def thresholds(path: Path | None = None) -> dict:
    source = path.read_text(encoding="utf-8") if path else \
        files("valuestory.evaluations").joinpath("thresholds.toml").read_text(encoding="utf-8")
    return tomllib.loads(source)


def section(report: dict, limits: dict) -> tuple[str, dict]:
    """The thresholds that apply to a report, and their section's name: a shared dataset's own
    section for the offline engine (`[shared.oakhaven_dev_codebook]`: folder name, split, and
    `_codebook` when the catalogue was the codebook) where there is one, else the engine's
    for the split (`[offline.test]`, `[offline.test_codebook]`: the sample dataset)."""
    key = report.get("split", "") + ("_codebook" if report.get("codebook") else "")
    engine = report.get("engine", "")  # offline | llm
    shared = f"{Path(report.get('dataset', '')).name}_{key}"
    if engine == "offline" and shared in limits.get("shared", {}):
        return f"shared.{shared}", limits["shared"][shared]
    return f"{engine}.{key}", limits.get(engine, {}).get(key, {})


def check(metrics: dict, wanted: dict) -> list[str]:
    """What in `metrics` (as saved: {"value", ...} per name) falls short of `wanted` (name ->
    minimum, or maximum for the lower-is-better ones); empty if all pass."""
    failures = []
    for name, minimum in wanted.items():
        value = (metrics.get(name) or {}).get("value")
        if value is None:
            failures.append(f"{name}: not measured (threshold {minimum})")
        elif (value > minimum) if name in LOWER_IS_BETTER else (value < minimum):
            failures.append(f"{name} = {value:.3f}, {'above' if name in LOWER_IS_BETTER else 'below'} the threshold {minimum}")
    return failures


def gate(report: dict, limits: dict) -> list[str]:
    """What falls short of the thresholds for this report's engine, split and dataset (see
    `section`); empty if all pass."""
    report = to_json(report)
    return check(report["metrics"], section(report, limits)[1])
