"""The public benchmarks as coding tasks (evaluations/public.py), and the regression gate on
the shared datasets (../shared/datasets): those checks skip when the folder is absent."""

from types import SimpleNamespace

import pytest

from tests.conftest import ROOT
from valuestory.evaluations import public, runs
from valuestory.evaluations.dataset import load_dataset
from valuestory.evaluations.harness import evaluate_splits

SHARED = ROOT.parent / "shared" / "datasets"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/datasets is absent")

MAMS_XML = """<?xml version="1.0" encoding="utf-8"?>
<sentences>
	<sentence>
		<text>  The pasta was great but the waiter ignored us.</text>
		<aspectCategories>
			<aspectCategory category="food" polarity="positive"/>
			<aspectCategory category="staff" polarity="negative"/>
		</aspectCategories>
	</sentence>
	<sentence>
		<text>Prices are fair for the area.</text>
		<aspectCategories>
			<aspectCategory category="price" polarity="positive"/>
			<aspectCategory category="place" polarity="neutral"/>
		</aspectCategories>
	</sentence>
</sentences>
"""


def mention(touchpoint: str, polarity: str = "neutral", confidence: float = 0.5):
    return SimpleNamespace(touchpoint=touchpoint, polarity=polarity, confidence=confidence)


def test_mams_reads_sentences_with_their_categories_and_polarities(tmp_path):
    path = tmp_path / "val.xml"
    path.write_text(MAMS_XML, encoding="utf-8")
    assert public.mams(path) == [("The pasta was great but the waiter ignored us.", {"food": "positive", "staff": "negative"}),
                                 ("Prices are fair for the area.", {"price": "positive", "place": "neutral"})]
    assert [n for n, _, _ in public.mams_codebook()] == ["food", "service", "staff", "price", "ambience", "menu",
                                                          "place", "miscellaneous"]
    assert all(d and not examples for _, d, examples in public.mams_codebook())


def test_banking77_few_shot_split_is_fixed_disjoint_and_subsamples_the_same_queries(tmp_path):
    path = tmp_path / "train.csv"
    rows = [f"query {intent} {i},{intent}" for intent in ("card_arrival", "age_limit", "top_up_failed") for i in range(14)]
    path.write_text("text,category\n" + "\n".join(rows) + "\n", encoding="utf-8")
    codebook, queries = public.banking77_fewshot(path)
    assert [(name, description) for name, description, _ in codebook] == [
        ("age_limit", "age limit"), ("card_arrival", "card arrival"), ("top_up_failed", "top up failed")]
    examples = {name: ex.split(" | ") for name, _, ex in codebook}
    assert all(len(ex) == 10 for ex in examples.values()) and len(queries) == 3 * 4
    assert all(text not in examples[intent] and text.split()[1] == intent for text, intent in queries)
    assert public.banking77_fewshot(path) == (codebook, queries)  # the seed fixes the split
    _, first = public.banking77_fewshot(path, per_intent=2)
    assert first == [q for intent in ("age_limit", "card_arrival", "top_up_failed")
                     for q in [q for q in queries if q[1] == intent][:2]]
    assert public.banking77_fewshot(path, seed=1)[1] != queries


def test_the_scores_count_codebook_names_only_and_take_the_most_confident_mention():
    items = [("a", {"food": "positive", "staff": "negative"}), ("b", {"price": "positive"})]
    coded = [[mention("food", "negative", 0.4), mention("food", "positive", 0.9), mention("Delivery", "negative", 1.0)],
             [mention("price", "positive"), mention("menu", "neutral")]]
    s = public.score_mams(items, coded, n=50)
    # tp: food, price; fp: menu (Delivery is outside the codebook, not a category); fn: staff
    assert s["category_f1"].value == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert s["category_precision"].value == pytest.approx(2 / 3) and s["category_recall"].value == pytest.approx(2 / 3)
    assert s["polarity_accuracy"].value == 1.0  # food's most confident mention is positive
    assert s["outside_codebook"].value == pytest.approx(1 / 5)
    codebook = [("card_arrival", "", ""), ("age_limit", "", "")]
    queries = [("q1", "card_arrival"), ("q2", "age_limit"), ("q3", "age_limit")]
    coded = [[mention("card_arrival", confidence=0.3), mention("age_limit", confidence=0.2), mention("Payouts", confidence=0.9)],
             [mention("card_arrival", confidence=0.7)], []]
    s = public.score_banking77(queries, codebook, coded, n=50)
    assert s["accuracy"].value == pytest.approx(1 / 3) and s["coverage"].value == pytest.approx(2 / 3)
    assert 0 <= s["accuracy"].low <= s["accuracy"].value <= s["accuracy"].high


def test_each_text_is_coded_as_its_own_record_against_the_codebook():
    texts = ["The food was cold and the staff were rude.", "Great prices, lovely terrace.", ""]
    coded, about = public.code_texts(texts, public.mams_codebook())
    assert len(coded) == 3 and about["engine"] == "offline" and not coded[2]
    for i, ms in enumerate(coded):
        assert all(m.record_id == f"feedback:x{i}" and m.quote in texts[i] for m in ms)
    assert coded[0]


# --- the gate on the shared datasets --------------------------------------------------------

@pytest.fixture(scope="module")
def limits():
    return runs.thresholds()


@needs_shared
def test_mams_val_passes_the_gate(limits):
    items = public.mams(SHARED / "mams-acsa" / "val.xml")
    coded, _ = public.code_texts([t for t, _ in items], public.mams_codebook())
    scores = runs.to_json({"metrics": public.score_mams(items, coded, n=200)})["metrics"]
    assert len(items) == 400 and limits["shared"]["mams_val"]
    assert not (failures := runs.check(scores, limits["shared"]["mams_val"])), failures


@needs_shared
def test_banking77_ten_shot_passes_the_gate(limits):
    """The datasets README's protocol in full (3,056 queries: a few seconds offline)."""
    codebook, queries = public.banking77_fewshot(SHARED / "banking77" / "train.csv")
    assert len(codebook) == 77 and len(queries) == 3056
    coded, _ = public.code_texts([q for q, _ in queries], codebook)
    scores = runs.to_json({"metrics": public.score_banking77(queries, codebook, coded, n=200)})["metrics"]
    assert not (failures := runs.check(scores, limits["shared"]["banking77"])), failures


@needs_shared
@pytest.mark.parametrize("codebook", [False, True], ids=["inductive", "codebook"])
def test_oakhaven_passes_the_gate(limits, codebook):
    """Dev and test (scored, never read) from one run of the whole corpus."""
    for report in evaluate_splits(load_dataset(SHARED / "oakhaven"), ["dev", "test"], n=200, codebook=codebook):
        name, wanted = runs.section(runs.to_json(report), limits)
        assert name == f"shared.oakhaven_{report['split']}{'_codebook' if codebook else ''}" and wanted
        assert report["codebook"] is codebook
        assert not (failures := runs.gate(report, limits)), (name, failures)
