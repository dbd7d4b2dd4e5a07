"""A mention's confidence on the curve of the researcher's own verdicts."""

from __future__ import annotations

import random

from tests.test_cli import run
from tests.test_learning import _review, latest
from valuestory.evaluations.metrics import calibration_error
from valuestory.pipeline.mentions.calibration import MIN_VERDICTS, built_in, recalibrated, refit


def test_verdicts_refit_an_overconfident_curve_and_too_few_leave_it_be():
    rng = random.Random(3)
    said = [(p, rng.random() < p / 2) for p in (rng.uniform(0.3, 0.95) for _ in range(400))]  # right half as often
    fit = refit(said)
    assert fit is not None
    before = calibration_error(said)
    after = calibration_error([(recalibrated(p, fit), ok) for p, ok in said])
    assert after < before / 3
    assert abs(built_in(recalibrated(0.7, fit), fit) - 0.7) < 0.01  # what a verdict keeps of a shown confidence
    assert refit(said[:MIN_VERDICTS - 1]) is None
    assert refit([(0.9, True)] * 100) is None  # never a wrong one: nothing to fit


def test_thirty_verdicts_put_the_projects_confidences_on_its_own_curve(tmp_path):
    said = ["Paying them felt odd for {} weeks.", "The invoice was wrong again {} times.",
            "Support never called back after {} days."]  # coded at about 0.19, 0.50 and 0.89
    rows = ["id,score,comment"] + [f"{i},{i % 11},{said[i % 3].format(i + 2)}" for i in range(60)]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    run("ingest", "s.csv", cwd=tmp_path)
    run("run", cwd=tmp_path)
    first = {(m.record_id, m.quote): m.confidence for m in latest(tmp_path, lambda run: run.coding).mentions}
    assert "Built-in calibration" in run("report", "-o", "-", cwd=tmp_path).stdout
    # least confident first: the researcher rejects what the engine was least sure of, keeps the rest
    queue = sorted(first.items(), key=lambda kv: kv[1])[:40]
    answers = "".join("n\n" if "Paying" in quote else "y\n" for (_, quote), _ in queue)
    asked = _review(tmp_path, "-n", "40", answers=answers)
    assert asked.returncode == 0 and "40 verdict(s) kept" in asked.stdout, asked.stdout + asked.stderr
    run("run", cwd=tmp_path)
    coding = latest(tmp_path, lambda run: run.coding)
    assert coding.calibration and coding.calibration[2] == 40
    assert "confidences on the curve of 40 of your verdicts" in run("runs", "show", latest(tmp_path), cwd=tmp_path).stdout
    assert "Calibrated on 40 of your verdicts" in run("report", "-o", "-", cwd=tmp_path).stdout
    # what it was surest of was right, what it was least sure of wrong: the curve says so now
    now = {(m.record_id, m.quote): m.confidence for m in coding.mentions}
    kept = [k for k in now if "invoice" in k[1]]
    assert kept and all(now[k] > first[k] for k in kept)
