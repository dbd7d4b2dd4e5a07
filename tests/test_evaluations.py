"""The evaluation harness: metrics, datasets and labels, the CLI, the judge, and the gate."""

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_cli import run as run_cli
from valuestory.errors import InputError, ValuestoryError
from valuestory.evaluations import runs
from valuestory.evaluations.dataset import GoldUnit, load_dataset, load_user_labels
from valuestory.evaluations.harness import NameMatcher, Predicted, evaluate_dataset, unit_metrics, write_codebook
from valuestory.evaluations.metrics import (
    accuracy,
    calibration_error,
    cohen_kappa,
    macro_f1,
    macro_f1_sets,
    mean_absolute_error,
    prf,
    spearman,
)
from valuestory.stats import bootstrap
from valuestory.stores.embeddings import make_embedder


def test_metrics_on_known_answers():
    assert prf([{"a", "b"}, {"c"}], [{"a"}, {"c", "d"}]) == (2 / 3, 2 / 3, 2 / 3)
    assert prf([set()], [set()]) == (1.0, 1.0, 1.0) and prf([{"a"}], [set()])[2] == 0.0
    assert macro_f1_sets([{"a"}, {"b"}], [{"a"}, {"a"}]) == pytest.approx((2 / 3 + 0) / 2)
    assert accuracy(["x", "y", "y"], ["x", "y", "x"]) == pytest.approx(2 / 3)
    assert macro_f1(["x", "x", "y"], ["x", "y", "y"]) == pytest.approx(2 / 3)
    # kappa: perfect agreement is 1, agreement at chance level is 0
    assert cohen_kappa(["a", "b", "a", "b"], ["a", "b", "a", "b"]) == 1.0
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == pytest.approx(0.0)
    assert mean_absolute_error([1.0, -1.0], [0.5, -1.0]) == 0.25
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)


def test_calibration_error_is_the_gap_between_confidence_and_the_share_right():
    assert calibration_error([(0.8, True)] * 8 + [(0.8, False)] * 2) == pytest.approx(0.0)
    assert calibration_error([(0.9, True), (0.9, False)]) == pytest.approx(0.4)
    # bins are weighted by size: half the mentions 0.1 too confident, half right on
    assert calibration_error([(0.95, True)] * 10 + [(0.35, True)] * 3 + [(0.35, False)] * 7) == pytest.approx(0.05)
    assert calibration_error([]) is None


def test_bootstrap_interval_contains_the_value_and_narrows_with_more_data():
    small = bootstrap(lambda xs: sum(xs) / len(xs), [1, 0] * 10)
    large = bootstrap(lambda xs: sum(xs) / len(xs), [1, 0] * 500)
    assert small.low <= small.value == 0.5 <= small.high and small.n == 20
    assert large.high - large.low < small.high - small.low
    assert bootstrap(lambda xs: 1.0, []).value is None


def test_unit_metrics_score_touchpoints_polarity_phase_and_decisions():
    gold = [GoldUnit("u1", "nps:1", None, "test", "Engagement", set(), {"Payouts": -2, "Pricing": 1}),
            GoldUnit("u2", "nps:2", None, "test", "Transformation", {"churn"}, {"Pricing": -1})]
    pred = [Predicted({"Payouts": -0.6, "Support": 0.4}, "Engagement", set(), [(0.9, True), (0.9, False)]),
            Predicted({"Pricing": 0.5}, "Engagement", {"churn"}, [(0.5, True)])]
    m = unit_metrics(list(zip(gold, pred, strict=True)), n=50)
    assert m["touchpoint_precision"].value == pytest.approx(2 / 3) and m["touchpoint_recall"].value == pytest.approx(2 / 3)
    assert m["polarity_accuracy"].value == 0.5  # Payouts right, Pricing wrong
    assert m["sentiment_mae"].value == pytest.approx((abs(-1 + 0.6) + abs(-0.5 - 0.5)) / 2)
    assert m["phase_accuracy"].value == 0.5 and m["decision_f1"].value == 1.0
    assert m["confidence_ece"].value == pytest.approx((2 * 0.4 + 0.5) / 3)  # over every mention


def test_names_match_the_gold_catalogue_by_name_words_then_meaning():
    match = NameMatcher(["Quote builder", "Scheduling and dispatch", "Customer support"],
                        make_embedder("wordllama").embed,
                        descriptions={"Scheduling and dispatch": "The schedule, dispatch board and calendar"})
    assert match("quote builder") == "Quote builder" and match("Quotes") == "Quote builder"
    assert match("Dispatch board") == "Scheduling and dispatch"  # every word is in the description
    assert match("Weather") is None


def test_the_sample_labels_are_a_real_dataset():
    ds = load_dataset(ROOT / "data_samples")
    kinds = {u.kind for u in ds.units}
    assert len(ds.units) >= 400 and {"interview", "nps", "support", "sales"} <= kinds
    assert {u.split for u in ds.units} == {"dev", "test"}
    for u in ds.units:  # a record's units are all in one split
        assert all(v.split == u.split for v in ds.units if v.record_id == u.record_id)
    assert set(t for u in ds.units for t in u.touchpoints) <= set(ds.catalogue)
    assert ds.priority and {p.name for p in ds.personas} == {"Owner-operator", "Small crew", "Multi-crew"}


def test_bad_labels_name_the_file_line_and_column(tmp_path):
    shutil.copytree(ROOT / "data_samples" / "labels", tmp_path / "labels")
    (tmp_path / "corpus").mkdir()
    labels = tmp_path / "labels" / "labels.csv"
    lines = labels.read_text().splitlines()
    lines[3] = lines[3].replace("Engagement", "Happiness", 1)
    labels.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        load_dataset(tmp_path)
    assert (info.value.line, info.value.column) == (4, "phase") and "Happiness" in str(info.value)
    own = tmp_path / "mine.csv"
    own.write_text("record_id,touchpoint,polarity,phase\nnps:1,Payouts,furious,\n")
    with pytest.raises(InputError) as info:
        load_user_labels(own)
    assert (info.value.line, info.value.column) == (2, "polarity")


@pytest.fixture(scope="module")
def test_split_report():
    return evaluate_dataset(load_dataset(ROOT / "data_samples"), "test", "offline", n=200)


def test_the_offline_engine_passes_the_gate_on_the_test_split(test_split_report):
    """The regression gate: `make test` fails when a metric drops below its threshold."""
    failures = runs.gate(test_split_report, runs.thresholds())
    assert not failures, failures
    assert test_split_report["engine"] == "offline" and test_split_report["split"] == "test"
    assert set(test_split_report["by_kind"]) == {"feedback", "interview", "nps", "sales", "support"}


@pytest.fixture(scope="module")
def codebook_report():
    return evaluate_dataset(load_dataset(ROOT / "data_samples"), "test", "offline", n=200, codebook=True)


def test_with_codebook_the_run_codes_against_the_catalogue_and_passes_its_gate(codebook_report, test_split_report):
    """--codebook is not ignored: the run's codebook touchpoints are the catalogue's, the report
    says so, and its own thresholds ([offline.test_codebook]) hold."""
    catalogue = load_dataset(ROOT / "data_samples").catalogue
    assert codebook_report["codebook"] is True and codebook_report["touchpoint_origins"]["codebook"] == len(catalogue)
    assert codebook_report["metrics"]["codebook_share"].n > 0
    assert test_split_report["codebook"] is False and "codebook" not in test_split_report["touchpoint_origins"]
    assert "codebook_share" not in test_split_report["metrics"]
    limits = runs.thresholds()
    assert runs.section(runs.to_json(codebook_report), limits) == ("offline.test_codebook", limits["offline"]["test_codebook"])
    assert not (failures := runs.gate(codebook_report, limits)), failures


def test_the_catalogue_is_written_as_a_codebook_the_run_reads(tmp_path):
    from valuestory.codebook import load_codebook
    (tmp_path / "labels").mkdir()
    (tmp_path / "corpus").mkdir()
    (tmp_path / "labels" / "catalogue.csv").write_text(
        'touchpoint,description,examples\nPayouts,"Money paid out, and when",waiting for my money | payout late\n'
        "Login,,\n", encoding="utf-8")
    (tmp_path / "labels" / "labels.csv").write_text("unit,record_id,split,phase,touchpoint,sentiment\n", encoding="utf-8")
    book = load_codebook(write_codebook(load_dataset(tmp_path), tmp_path / "codebook.csv"))
    assert [(t.name, t.description, t.examples, t.origin) for t in book] == [
        ("Payouts", "Money paid out, and when", ("waiting for my money", "payout late"), "codebook"),
        ("Login", "Login", (), "codebook")]


def test_each_report_meets_the_thresholds_of_its_own_dataset_and_coding():
    limits = {"offline": {"test": {"a": 1}, "test_codebook": {"b": 1}}, "shared": {"oakhaven_dev_codebook": {"c": 1}}}
    def section(dataset, split, codebook, engine="offline"):
        return runs.section({"dataset": dataset, "split": split, "codebook": codebook, "engine": engine}, limits)
    assert section("data_samples", "test", False) == ("offline.test", {"a": 1})
    assert section("/x/data_samples", "test", True) == ("offline.test_codebook", {"b": 1})
    assert section("../shared/datasets/oakhaven", "dev", True) == ("shared.oakhaven_dev_codebook", {"c": 1})
    assert section("../shared/datasets/oakhaven", "dev", True, "llm") == ("llm.dev_codebook", {})
    assert runs.check({"a": {"value": 0.5}}, {"a": 0.6, "b": 0.1}) == [
        "a = 0.500, below the threshold 0.6", "b: not measured (threshold 0.1)"]


def test_the_gate_fails_below_a_threshold(test_split_report):
    limits = {"offline": {"test": {"touchpoint_f1": 0.99, "sentiment_mae": 0.01, "groundedness": 1.0}}}
    failures = runs.gate(test_split_report, limits)
    assert len(failures) == 2 and "touchpoint_f1" in failures[0] and "above the threshold" in failures[1]


def cli(*args: str, cwd: Path, check: int = 0):
    return run_cli(*args, cwd=cwd, check=check)


@pytest.mark.e2e
def test_eval_cli_records_compares_and_checks_a_users_own_labels(tmp_path):
    shutil.copytree(ROOT / "data_samples", tmp_path / "data_samples")
    first = cli("eval", "--split", "dev", "--json", "a.json", "--gate", cwd=tmp_path)
    out = first.stdout
    assert "touchpoint_f1" in out and "groundedness" in out and "split dev, inductive" in " ".join(out.split())
    assert "no thresholds for offline.dev" in first.stderr
    a = json.loads((tmp_path / "a.json").read_text())
    assert a["codebook"] is False
    assert {"value", "ci_low", "ci_high", "n"} <= set(a["metrics"]["touchpoint_f1"])
    # what the figures were measured on: the engine, its embedding, every stage's version
    assert a["engine"] == "offline" and a["model"].startswith("wordllama") and a["labels_hash"]
    assert re.match(r"mentions\.\d+\+cues\.v\d+", a["stages"]["mentions"]) and set(a["stages"]) >= {"valuemap", "scores"}
    # deductive: the dataset's catalogue is the run's codebook
    (tmp_path / "limits.toml").write_text("[offline.test]\ntouchpoint_f1 = 0.99\n[offline.test_codebook]\ngroundedness = 1.0\n")
    b = cli("eval", "--split", "test", "--codebook", "--json", "b.json", "--gate", "--thresholds", "limits.toml", cwd=tmp_path)
    assert "split test, with its catalogue as the codebook" in " ".join(b.stdout.split())
    assert "every threshold of offline.test_codebook met" in b.stderr
    b_json = json.loads((tmp_path / "b.json").read_text())
    assert b_json["codebook"] is True and b_json["touchpoint_origins"]["codebook"] == 40
    assert "codebook_share" in b_json["metrics"]
    b_id = b_json["eval_id"]
    compared = cli("eval", "--compare", a["eval_id"], b_id, cwd=tmp_path).stdout
    assert "difference" in compared and "touchpoint_f1" in compared
    assert "No single eval run" in cli("eval", "--compare", "nope", b_id, cwd=tmp_path, check=2).stderr
    assert b.returncode == 0

    # a researcher's own coding of their project, against its latest run
    cli("init", cwd=tmp_path)
    cli("ingest", "data_samples/corpus/nps", cwd=tmp_path)
    cli("run", cwd=tmp_path)
    (tmp_path / "mine.csv").write_text(
        "record_id,touchpoint,polarity,phase\n"
        "nps:3-70413,Payouts,positive,Engagement\n"
        "nps:3-70427,Chat support,negative,Engagement\n"
        "nps:3-70447,Login,negative,Engagement\n"
        "nps:3-70422,Price increase,negative,Transformation\n")
    own = cli("eval", "--labels", "mine.csv", "--json", "mine.json", cwd=tmp_path)
    mine = json.loads((tmp_path / "mine.json").read_text())
    assert mine["split"] == "labels" and mine["units"] == 4 and "polarity_kappa" in mine["metrics"]
    assert mine["metrics"]["touchpoint_recall"]["value"] >= 0.5 and "phase_kappa" in own.stdout
    # only what was coded: no decision column, and offline groundedness is true by construction
    assert not any(k.startswith("decision_") or k == "groundedness" for k in mine["metrics"])
    assert mine["coded"] == ["phase", "polarity", "touchpoint"]
    # how each of the run's names met the user's, and where the two differ, with the words
    how = {m["name"]: (m["matched"], m["how"]) for m in mine["matches"]}
    assert how and all(h in ("name", "words", "meaning", "none") for _, h in how.values())
    assert {matched for matched, h in how.values() if h != "none"} <= {"Payouts", "Chat support", "Login", "Price increase"}
    assert "How the run's touchpoint names were matched to yours" in own.stdout and "Disagreements" in own.stdout
    records = {r["record_id"]: r["text"] for r in json.loads(cli("export", "records", "-f", "json", cwd=tmp_path).stdout)}
    for d in mine["disagreements"]:
        assert d["record_id"] in {"nps:3-70413", "nps:3-70427", "nps:3-70447", "nps:3-70422"}
        assert d["quote"] and d["quote"][:40] in " ".join(records[d["record_id"]].split())
        assert d["user"] or d["run"]
    # every code of the user's that the run did not match is listed as a disagreement
    listed = {(d["record_id"], d["user"]) for d in mine["disagreements"] if d["what"] == "touchpoint"}
    for rid, name in [("nps:3-70413", "Payouts"), ("nps:3-70427", "Chat support"), ("nps:3-70447", "Login"),
                      ("nps:3-70422", "Price increase")]:
        ran = {m["matched"] for m in mine["matches"]}
        assert name in ran or (rid, name) in listed
    (tmp_path / "tps.csv").write_text("record_id,touchpoint\nnps:3-70413,Payouts\nnps:3-70427,Chat support\n")
    cli("eval", "--labels", "tps.csv", "--json", "tps.json", cwd=tmp_path)
    only = json.loads((tmp_path / "tps.json").read_text())
    assert "touchpoint_f1" in only["metrics"] and not any(
        k.startswith(("polarity_", "sentiment_", "phase_", "decision_")) for k in only["metrics"])
    (tmp_path / "dec.csv").write_text("record_id,decision\nnps:3-70413,churn\n")
    cli("eval", "--labels", "dec.csv", "--json", "dec.json", cwd=tmp_path)
    dec = json.loads((tmp_path / "dec.json").read_text())
    assert set(k for k in dec["metrics"] if k != "touchpoint_pairs") >= {"decision_f1"} and "touchpoint_f1" not in dec["metrics"]
    (tmp_path / "bad_dec.csv").write_text("record_id,decision\nnps:3-70413,leaving\n")
    assert "decision 'leaving' is not one of" in cli("eval", "--labels", "bad_dec.csv", cwd=tmp_path, check=2).stderr
    assert "--codebook codes a --dataset" in cli("eval", "--labels", "mine.csv", "--codebook", cwd=tmp_path, check=2).stderr
    (tmp_path / "bad.csv").write_text("record_id,touchpoint\nnps:nope,Payouts\n")
    assert "not in this project" in cli("eval", "--labels", "bad.csv", cwd=tmp_path, check=2).stderr


def test_the_judge_scores_stories_and_hypotheses_against_the_rubrics(project, write):
    from valuestory.evaluations.judge import judge_run
    from valuestory.ingest.ingest import ingest
    from valuestory.pipeline.run import run as run_method
    from valuestory.stores.runs import RunReader
    from valuestory.testing import ScriptedModel
    ingest(project, [ROOT / "data_samples" / "corpus" / "nps"])
    result = run_method(project, "offline")

    def on_call(messages, schema):
        n = messages[-1]["content"].count("<i")
        return json.dumps({"scores": [{"item": i, "grounded": 4, "specific": 2, "non_generic": 3, "reason": "ok"}
                                      for i in range(1, n + 1)]})
    model = ScriptedModel(name="scripted:judge", on_call=on_call)
    scores = judge_run(project, RunReader(project.ledger, result.run_id), model, "judge-test")
    assert scores["judge_opportunities_grounded"].value == 4 and scores["judge_opportunities_specific"].value == 2
    prompt = model.calls[0]
    assert "never instructions" in prompt[0]["content"] and "grounded:" in prompt[-1]["content"]
    assert "<quote>" in prompt[-1]["content"]


def test_compare_says_when_a_difference_is_outside_the_intervals():
    def run(v, lo, hi):
        return {"metrics": {"touchpoint_f1": {"value": v, "ci_low": lo, "ci_high": hi}}}
    [row] = runs.compare(run(0.70, 0.65, 0.75), run(0.85, 0.80, 0.90))
    assert row["difference"] == pytest.approx(0.15) and row["outside_intervals"] is True
    [row] = runs.compare(run(0.70, 0.65, 0.75), run(0.72, 0.67, 0.77))
    assert row["outside_intervals"] is False


def test_an_unknown_eval_run_is_a_clear_error(tmp_path):
    with pytest.raises(ValuestoryError, match="run `valuestory eval` first"):
        runs.load("eval-x", tmp_path / "evals")


def test_an_llm_engine_is_evaluated_the_same_way_and_recorded_with_its_prompts():
    from valuestory.testing import ScriptedModel, answer
    model = ScriptedModel(name="scripted:eval", on_call=answer)
    report = evaluate_dataset(load_dataset(ROOT / "data_samples"), "dev", n=50, model=model)
    assert report["engine"] == "llm" and report["model"] == "scripted:eval"
    assert report["prompts"]["mentions"] == ["mentions.v6"] and report["prompts"]["stories"] == ["value_story.v3"]
    assert report["metrics"]["groundedness"].value == 1.0  # the fake quotes records' first words
    assert 0 <= report["metrics"]["touchpoint_f1"].value <= 1 and model.calls


def test_labels_find_records_whose_ids_are_redacted_in_the_store(tmp_path):
    """An interview file named after its participant gets a pseudonymised record id in the
    store; the labels, which name it as its file does, still score against it."""
    (tmp_path / "corpus" / "interviews").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    (tmp_path / "corpus" / "interviews" / "Dana Whitfield.txt").write_text(
        "Interviewer: How was the refund?\nDana Whitfield: The refund took three weeks and support never replied.\n"
        "Interviewer: And the app?\nDana Whitfield: The app itself is great, booking is quick.\n", encoding="utf-8")
    (tmp_path / "labels" / "catalogue.csv").write_text(
        "touchpoint,description\nRefunds,Getting money back\nBooking,Making a booking\n", encoding="utf-8")
    (tmp_path / "labels" / "labels.csv").write_text(
        "unit,record_id,turn,split,phase,decisions,touchpoint,sentiment\n"
        "interview:Dana Whitfield#t1,interview:Dana Whitfield,t1,test,Engagement,,Refunds,-2\n"
        "interview:Dana Whitfield#t3,interview:Dana Whitfield,t3,test,Engagement,,Booking,2\n", encoding="utf-8")
    report = evaluate_dataset(load_dataset(tmp_path), "test", "offline", n=50, codebook=True)
    assert report["units"] == 2
    assert report["metrics"]["touchpoint_f1"].value > 0  # the units met their record
