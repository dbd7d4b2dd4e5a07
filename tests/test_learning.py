"""Learning from the researcher: corrections become lessons, lessons change the next run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.test_cli import VALUESTORY, run
from valuestory.pipeline.mentions.cues import NEUTRAL
from valuestory.pipeline.mentions.learned import MIN_POLARITY_TEXTS, Teacher, band, lessons
from valuestory.pipeline.mentions.library import LIBRARY
from valuestory.pipeline.mentions.offline import Catalogue, build, offline_mentions
from valuestory.pipeline.recode import Recode
from valuestory.records import Record
from valuestory.stores.embeddings import make_embedder

EMBED = make_embedder("wordllama").embed


def _said(action: str, code: str, text: str, **more) -> Recode:
    return Recode(action=action, touchpoints=[code], record_id="nps:1", quote=text, texts=[text], **more)


def test_the_later_decision_about_a_text_stands_and_a_rename_carries_its_lessons():
    taught = lessons([_said("confirm", "Billing", "the invoice was wrong"),
                      _said("reject", "Billing", "the invoice was wrong"),
                      _said("reassign", "Billing", "my card reader died", into="Card reader"),
                      _said("polarity", "Card reader", "it works now", polarity="positive", sentiment=0.1),
                      Recode(action="rename", touchpoints=["Card reader"], into="Hardware")])
    assert taught.wrong == {"Billing": ["the invoice was wrong", "my card reader died"]}
    assert taught.right == {"Hardware": ["my card reader died", "it works now"]}
    assert taught.polarity == {"Hardware": [("it works now", "positive", 0.1)]}
    assert taught.counts()["Hardware"] == {"right": 2, "wrong": 0, "polarity": 1}
    assert lessons([]).digest() == "none" and taught.digest() != lessons(
        [_said("confirm", "Billing", "the invoice was wrong")]).digest()
    # decisions that teach nothing about texts leave the mentions stage's inputs as they were
    assert lessons([Recode(action="tag", touchpoints=["Billing"], tag="finance")]).digest() == "none"


def test_a_code_learns_its_neutral_band_only_when_the_texts_say_so():
    mentioned_in_passing = [(0.35, "neutral"), (0.3, "neutral"), (-0.25, "neutral"), (0.6, "positive"),
                            (-0.7, "negative"), (0.28, "neutral")]
    assert band(mentioned_in_passing) > 0.3  # this researcher calls mild words about the code neutral
    agreeing = [(0.4, "positive"), (-0.5, "negative"), (0.2, "positive"), (-0.3, "negative"), (0.0, "neutral")]
    assert band(agreeing) == NEUTRAL  # the engine's own band already gives them their polarity
    assert band([(0.16, "neutral")] + [(0.5, "positive")] * 19) == NEUTRAL  # 1 in 20 is too few to move it


def _record(i: int, text: str) -> Record:
    return Record(record_id=f"nps:{i}", kind="nps", source="s.csv", text=text)


def test_corrections_change_what_the_engine_codes_the_next_time_it_reads_such_text():
    catalogue = Catalogue(list(LIBRARY), EMBED)
    praise, again = _record(1, "The app is great."), _record(2, "The app is great!")
    [before] = offline_mentions([again], catalogue)
    assert before.touchpoint == "Mobile app"
    # rejected once: the same answer elsewhere loses the code too; other answers keep it
    teacher = Teacher(lessons([_said("reject", "Mobile app", praise.text)]), EMBED)
    assert offline_mentions([again], catalogue, teacher=teacher) == []
    other = _record(3, "The mobile app crashes when I upload photos.")
    assert [m.touchpoint for m in offline_mentions([other], catalogue, teacher=teacher)] == ["Mobile app"]
    # confirmed under a code: a text like it is coded so too, without a codebook
    told = "Crew chat keeps everyone on the same page."
    [_, mentions, _] = build([_record(4, "Crew chat keeps everyone on the same page!")], EMBED,
                          taught=lessons([_said("confirm", "Team messaging", told)]))
    assert "Team messaging" in {m.touchpoint for m in mentions}


def test_a_codes_learned_band_sets_the_polarity_of_its_mild_mentions():
    said = [_said("polarity", "Mobile app", f"the app {w}", polarity="neutral", sentiment=0.3)
            for w in ("is there", "has a menu", "shows jobs", "opens", "loads", "lists")]
    assert len(said) >= MIN_POLARITY_TEXTS
    teacher = Teacher(lessons(said), EMBED)
    assert teacher.sentiment("Mobile app", 0.3) == 0.0
    assert teacher.sentiment("Mobile app", 0.9) == 0.9  # strong words stay what they are
    assert teacher.sentiment("Billing", 0.3) == 0.3  # another code keeps the engine's band


@pytest.fixture()
def surveyed(tmp_path: Path) -> Path:
    (tmp_path / "s.csv").write_text(
        "id,score,What is the main reason for your score?\n1,9,Support answered within minutes.\n"
        "2,3,The invoice was wrong twice.\n"
        "3,2,The app is slow and the invoice was late.\n4,10,Scheduling jobs is easy now.\n", encoding="utf-8")
    run("ingest", "s.csv", cwd=tmp_path)
    run("run", cwd=tmp_path)
    return tmp_path


def _review(root: Path, *args: str, answers: str) -> subprocess.CompletedProcess:
    return subprocess.run([VALUESTORY, "review", *args], cwd=root, input=answers, capture_output=True, text=True,
                          timeout=300, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def _mentions(root: Path) -> list[dict]:
    return json.loads(run("export", "mentions", "-f", "json", cwd=root).stdout)


def test_review_takes_a_verdict_per_mention_least_certain_first_and_the_next_run_learns(surveyed):
    root = surveyed
    before = _mentions(root)
    listed = run("review", "--list", cwd=root).stdout
    least = min(before, key=lambda m: m["confidence"])
    assert f"{least['confidence']:.2f}" in listed.split("2.")[0]  # the least confident mention comes first
    assert "answering “What is the main reason for your score?”" in listed  # what the words answer
    asked = _review(root, "-n", "3", answers="maybe\nn\ny\np +\n")
    assert asked.returncode == 0, asked.stderr
    assert "unknown verdict 'maybe'" in asked.stdout  # asked again, nothing kept for it
    assert "3 verdict(s) kept" in asked.stdout
    decisions = run("code", "list", cwd=root).stdout
    assert "reject" in decisions and "confirm" in decisions and "to positive" in decisions
    run("run", cwd=root)
    after = _mentions(root)
    assert len(after) == len(before) - 1  # the rejected mention is gone
    shown = run("runs", "show", latest(root), cwd=root).stdout
    assert "learned from corrections: 3 texts" in shown
    # reviewed mentions are not asked again
    again = run("review", "--list", "-n", "50", cwd=root).stdout
    assert again.count("confidence") == len(after) - 2


def latest(root: Path, what=lambda run: run.run_id):
    """`what` of the project's latest run (its id by default)."""
    from valuestory.project import Project
    from valuestory.stores.runs import RunStore
    project = Project(root)
    try:
        return what(RunStore(project.ledger).latest())
    finally:
        project.ledger.close()


def test_your_own_labels_become_verdicts_the_next_run_learns_from(surveyed):
    root = surveyed
    mentions = _mentions(root)
    invoice = next(m for m in mentions if "invoice" in m["quote"].lower())
    labels = root / "mine.csv"
    labels.write_text(f"record_id,touchpoint,polarity\n{invoice['record_id']},{invoice['touchpoint']},positive\n",
                      encoding="utf-8")
    assert "--learn keeps" in run("eval", "--learn", cwd=root, check=2).stderr
    out = run("eval", "--labels", str(labels), "--learn", cwd=root)
    assert "kept 1 verdict(s) from your labels (1 polarity)" in out.stderr
    assert "to positive" in run("code", "list", cwd=root).stdout
    run("run", cwd=root)
    fixed = next(m for m in _mentions(root) if m["record_id"] == invoice["record_id"]
                 and m["touchpoint"] == invoice["touchpoint"] and m["quote"] == invoice["quote"])
    assert fixed["polarity"] == "positive"
