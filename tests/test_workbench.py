"""The researcher's workbench: the small things a researcher trips over first."""

import json
from pathlib import Path

import pytest

from tests.test_cli import run

pytestmark = pytest.mark.e2e


def cli(*args: str, cwd: Path, check: int | None = 0, columns: int = 200):
    return run(*args, cwd=cwd, check=check, env={"COLUMNS": str(columns)})


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("small")
    (root / "s.csv").write_text("id,score,comment\n1,9,Support answered within minutes.\n"
                                "2,3,The invoice was wrong twice and support never called back.\n", encoding="utf-8")
    cli("ingest", "s.csv", cwd=root)
    cli("run", cwd=root)
    return root


def test_dash_as_output_is_standard_output(small):
    out = cli("export", "mentions", "-f", "json", "-o", "-", cwd=small).stdout
    assert json.loads(out) and not (small / "-").exists()
    html = cli("report", "-o", "-", cwd=small).stdout
    assert html.lstrip().startswith("<!DOCTYPE html>") and not (small / "-").exists()


def test_offline_run_does_not_boast_groundedness(small):
    out = cli("run", cwd=small).stdout
    assert "groundedness" not in out  # true by construction offline


def test_run_on_an_empty_project_says_there_is_nothing_to_run(tmp_path):
    cli("init", "empty", cwd=tmp_path)
    done = cli("run", "-p", "empty", cwd=tmp_path, check=2)
    assert "nothing to run" in done.stderr and "valuestory ingest" in done.stderr


def test_paths_are_shown_whole_and_forget_takes_them(tmp_path):
    folder = tmp_path / "research" / "2026-q3-interviews-with-long-folder-names"
    folder.mkdir(parents=True)
    for name in ("participant-interview-transcript-a.txt", "participant-interview-transcript-b.txt"):
        (folder / name).write_text("Interviewer: How was setup?\nCustomer: Setup took an afternoon.\n", encoding="utf-8")
    out = cli("ingest", "research", cwd=tmp_path, columns=80).stdout
    flat = out.replace("\n", "").replace("│", "").replace(" ", "")
    for name in ("participant-interview-transcript-a.txt", "participant-interview-transcript-b.txt"):
        assert name in flat
    narrow = cli("sources", cwd=tmp_path, columns=80).stdout
    assert "…" not in narrow and "transcript-b.txt" in narrow.replace("\n", "").replace("│", "").replace(" ", "")
    listed = cli("sources", cwd=tmp_path).stdout
    shown = next(cell.strip() for line in listed.splitlines() if "transcript-a" in line for cell in line.split("│")
                 if "transcript-a" in cell)
    assert shown == "research/2026-q3-interviews-with-long-folder-names/participant-interview-transcript-a.txt"
    cli("forget", shown, cwd=tmp_path)
    left = cli("sources", cwd=tmp_path).stdout
    assert "transcript-a" not in left and "transcript-b" in left


# --- slices --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample corpus ingested and run once (offline), through the API."""
    from tests.conftest import CORPUS
    from valuestory.ingest.ingest import ingest
    from valuestory.pipeline.run import run
    from valuestory.project import Project
    project = Project(tmp_path_factory.mktemp("slices") / "p")
    project.create()
    ingest(project, [CORPUS])
    run(project)
    return project


def _latest(project):
    from valuestory.stores.runs import RunStore
    return RunStore(project.ledger).latest()


def test_a_slice_keeps_only_its_records_and_scores_them_again(sample):
    from valuestory.pipeline.scores import score
    from valuestory.pipeline.slices import Slice
    records = list(sample.ledger.records())
    whole = _latest(sample)
    view = whole.sliced(Slice(segment="multi-crew"), records)  # as the user types it: case does not matter
    segment = {r.record_id: r.segment for r in records}
    mine = [r for r in records if r.segment == "Multi-crew"]
    assert view.coding.mentions and {segment[m.record_id] for m in view.coding.mentions} == {"Multi-crew"}
    assert len(view.coding.mentions) < len(whole.coding.mentions)
    assert len(view.journey.placements) == len(view.coding.mentions)
    assert all(segment[d.record_id] == "Multi-crew" for d in view.journey.decisions)
    again = score(view.coding.mentions, mine, view.coding.touchpoints)
    assert view.scores.model_dump() == again.model_dump()  # computed again, from the slice alone
    assert view.info.summary.fix_first == again.fix_first and view.info.summary.slice == "segment multi-crew"
    assert set(view.personas.persona_of) == {r.record_id for r in mine}
    assert all(p.delivery.record_id in view.personas.persona_of for p in view.promises.items)
    assert whole.scores.fix_first == whole.info.summary.fix_first  # the run itself is untouched


def test_dates_and_periods_bound_a_slice_and_bad_ones_say_what_to_give(sample):
    from valuestory.errors import InputError
    from valuestory.pipeline.slices import Slice
    records = list(sample.ledger.records())
    q3 = Slice(since="2026Q3").record_ids(records, {})
    assert q3 and all(r.date and r.date[:10] >= "2026-07-01" for r in records if r.record_id in q3)
    assert not any(r.date is None for r in records if r.record_id in q3)  # undated records are left out
    upto = Slice(until="2026-06-30").record_ids(records, {})
    assert upto and max(r.date[:10] for r in records if r.record_id in upto) == "2026-06-30"
    dated = {r.record_id for r in records if r.date}
    assert q3 | upto == dated and not q3 & upto
    with pytest.raises(InputError, match="neither a date nor a period"):
        Slice(since="last spring").bounds()
    with pytest.raises(InputError, match="comes before"):
        Slice(since="2026-09-01", until="2026Q2").bounds()
    with pytest.raises(InputError, match="segments: Multi-crew, Owner-operator, Small crew"):
        Slice(segment="Enterprise").record_ids(records, {})


def test_a_run_on_a_slice_reads_only_its_records(sample):
    from valuestory.pipeline.run import run
    from valuestory.pipeline.slices import Slice
    result = run(sample, cut=Slice(kind="interview"))
    assert result.coding.mentions and {m.kind for m in result.coding.mentions} == {"interview"}
    assert _latest(sample).info.summary.slice == "kind interview"
    run(sample)  # the later tests read the whole run again


def test_persona_scorecards_flag_only_differences_the_intervals_support():
    from valuestory.pipeline.artefacts import Mention, TouchpointDef
    from valuestory.pipeline.scores import by_persona, score
    from valuestory.records import Record
    records = [Record(record_id=f"nps:{i}", kind="nps", source="s", text="x", score=5) for i in range(60)]
    persona_of = {f"nps:{i}": "Solo" if i < 30 else "Crew" for i in range(60)}

    def said(i: int, tp: str, sentiment: float) -> Mention:
        return Mention(record_id=f"nps:{i}", kind="nps", touchpoint=tp, quote="words", start=0, end=5,
                       sentiment=sentiment, polarity="negative" if sentiment < 0 else "positive", confidence=0.9)
    # Solo hate payouts, Crew like them; both feel the same, noisily, about the app
    mentions = [said(i, "Payouts", -0.7 if i < 30 else 0.5) for i in range(60)]
    mentions += [said(i, "App", (-0.4, 0.4)[i % 2]) for i in range(60)]
    defs = [TouchpointDef(name="Payouts", channel="product"), TouchpointDef(name="App", channel="app")]
    cards = by_persona(mentions, records, defs, persona_of)
    assert cards.personas == ["Crew", "Solo"]
    cell = {(p.persona, p.score.touchpoint): p for p in cards.scores}
    solo = cell[("Solo", "Payouts")]
    assert solo.differs and solo.versus_rest.value == -1.2 and solo.versus_rest.high < 0
    assert cell[("Crew", "Payouts")].differs and cell[("Crew", "Payouts")].versus_rest.low > 0
    assert not cell[("Solo", "App")].differs and not cell[("Crew", "App")].differs
    own = score([m for m in mentions if persona_of[m.record_id] == "Solo"], records[:30], defs)
    assert solo.score.model_dump() == next(s for s in own.scores if s.touchpoint == "Payouts" and s.scope == "overall"
                                           ).model_dump()
    assert cards.fix_first["Solo"][0] == "Payouts"


def test_slices_from_the_command_line(sample):
    root = sample.root
    out = cli("export", "scores", "--segment", "Small crew", "-f", "json", cwd=root).stdout
    sliced = {s["touchpoint"]: s for s in json.loads(out) if s["scope"] == "overall"}
    whole = {s["touchpoint"]: s for s in json.loads(cli("export", "scores", "-f", "json", cwd=root).stdout)
             if s["scope"] == "overall"}
    assert sliced and all(sliced[t]["mentions"] <= whole[t]["mentions"] for t in sliced)
    assert any(sliced[t]["mentions"] < whole[t]["mentions"] for t in sliced)
    done = cli("report", "--persona", "Owner-operator", "--since", "2026Q3", cwd=root)
    written = next(line.split(": ", 1)[1].strip() for line in done.stdout.splitlines() if "Report written" in line)
    assert written.endswith("-persona-Owner-operator-since-2026Q3.html")
    html = Path(written).read_text(encoding="utf-8")
    assert "Slice: persona Owner-operator, since 2026Q3" in html
    assert "no record is in the slice" in cli("export", "mentions", "--segment", "Nobody", cwd=root, check=2).stderr
    personas = json.loads(cli("export", "personas", "-f", "json", cwd=root).stdout)
    assert {p["persona"] for p in personas} >= {"Owner-operator", "Small crew", "Multi-crew"}
    assert all(p["differs_from_rest"] == int(p["versus_rest_low"] is not None and (
        p["versus_rest_low"] > 0 or p["versus_rest_high"] < 0)) for p in personas)


# --- recoding ------------------------------------------------------------------------------------

def _coding():
    from valuestory.pipeline.artefacts import Coding, Mention, TouchpointDef

    def said(i: int, tp: str, quote: str) -> Mention:
        return Mention(record_id=f"nps:{i}", kind="nps", touchpoint=tp, quote=quote, start=0, end=len(quote),
                       sentiment=-0.5, polarity="negative", confidence=0.8)
    mentions = [said(1, "Mobile app", "The app crashes"), said(2, "iOS app", "iPhone app is slow"),
                said(3, "Payments", "The card reader failed"), said(4, "Payments", "Checkout was fine"),
                said(5, "Invoices", "The card reader printed no invoice"), said(5, "Payments", "Paid twice")]
    defs = [TouchpointDef(name=n, channel="product", effort="low") for n in ("Mobile app", "iOS app", "Payments", "Invoices")]
    return Coding(touchpoints=defs, mentions=mentions)


def test_each_recoding_decision_does_what_it_says_and_twice_is_once():
    from valuestory.pipeline.recode import Recode, apply
    decisions = [
        Recode(number=1, action="merge", touchpoints=["Mobile app", "iOS app"], into="Mobile app"),
        Recode(number=2, action="split", touchpoints=["Payments"], into="Card reader", words=["card reader"]),
        Recode(number=3, action="rename", touchpoints=["Invoices"], into="Billing"),
        Recode(number=4, action="reassign", touchpoints=["Billing"], into="Card reader", record_id="nps:5", quote="reader"),
        Recode(number=5, action="reject", touchpoints=["Payments"], record_id="nps:5"),
        Recode(number=6, action="tag", touchpoints=["Card reader"], tag="hardware"),
    ]
    done = apply(_coding(), decisions)
    by = {(m.record_id, m.touchpoint) for m in done.mentions}
    assert by == {("nps:1", "Mobile app"), ("nps:2", "Mobile app"), ("nps:3", "Card reader"), ("nps:4", "Payments"),
                  ("nps:5", "Card reader")}
    names = {t.name: t for t in done.touchpoints}
    assert set(names) == {"Mobile app", "Payments", "Card reader"}  # iOS app merged away; Billing emptied by the reassign
    assert names["Card reader"].tags == ("hardware",) and names["Card reader"].origin == "recoded"
    assert names["Card reader"].examples == ("card reader",) and names["Card reader"].effort == "low"
    assert done.recoded == {1: 2, 2: 1, 3: 1, 4: 1, 5: 1, 6: 2} and done.rejected == 1
    again = apply(done, decisions)
    assert [m.model_dump() for m in again.mentions] == [m.model_dump() for m in done.mentions]
    assert again.touchpoints == done.touchpoints


def test_recoding_lasts_across_runs_on_either_engine_and_can_be_undone(sample):
    from valuestory.pipeline.recode import Recode
    from valuestory.pipeline.run import run
    from valuestory.render.exports import rows
    from valuestory.stores.recodes import RecodeStore
    from valuestory.testing import ScriptedModel, answer
    before = _latest(sample).coding
    app = sum(m.touchpoint == "Mobile app" for m in before.mentions)
    assert app
    store = RecodeStore(sample.ledger)
    rename = store.add(Recode(action="rename", touchpoints=["Mobile app"], into="Field app"))
    store.add(Recode(action="tag", touchpoints=["Field app"], tag="q4"))
    run(sample)
    offline = _latest(sample)
    assert sum(m.touchpoint == "Field app" for m in offline.coding.mentions) == app
    assert not any(m.touchpoint == "Mobile app" for m in offline.coding.mentions)
    assert "Field app" in {s.touchpoint for s in offline.scores.scores} and offline.coding.recoded[rename.number] == app
    codebook = {r["name"]: r for r in rows(offline, "codebook", csv=True)}
    assert codebook["Field app"]["tags"] == "q4" and "Mobile app" not in codebook
    # on a model the catalogue is the model's, and the decisions still hold
    run(sample, "offline", model=ScriptedModel(name="scripted", on_call=answer))
    modelled = _latest(sample)
    assert modelled.info.engine == "llm" and "Field app" in {m.touchpoint for m in modelled.coding.mentions}
    assert "Mobile app" not in {m.touchpoint for m in modelled.coding.mentions}
    # undone, the next run codes as before
    store.undo()
    store.undo(rename.number)
    assert not store.active() and len(store.all()) == 2
    run(sample)
    back = _latest(sample).coding
    assert sum(m.touchpoint == "Mobile app" for m in back.mentions) == app and not back.recoded


def test_code_from_the_command_line_checks_names_and_lists_decisions(sample):
    root = sample.root
    wrong = cli("code", "rename", "Mobil app", "X", cwd=root, check=2).stderr
    assert "no touchpoint 'Mobil app'" in wrong and "Did you mean 'Mobile app'" in wrong
    mentions = json.loads(cli("export", "mentions", "-f", "json", cwd=root).stdout)
    m = next(x for x in mentions if x["touchpoint"] == "Payouts and refunds")
    assert "no mention of" in cli("code", "reject", m["record_id"], "-t", "Payouts and refunds", "-q", "zzz nothing",
                                  cwd=root, check=2).stderr
    made = cli("code", "reject", m["record_id"], "-t", "Payouts and refunds", "-q", m["quote"][:12], cwd=root).stdout
    number = made.split(".")[0]
    taken = sum(1 for x in mentions if x["record_id"] == m["record_id"] and x["touchpoint"] == "Payouts and refunds"
                and m["quote"][:12].casefold() in x["quote"].casefold())
    assert made.startswith(f"{number}. reject Payouts and refunds in {m['record_id']}")
    cli("run", cwd=root)
    listed = cli("code", "list", cwd=root).stdout
    row = next(line for line in listed.splitlines() if line.startswith(f"│ {number} "))
    assert "in force" in row and row.rstrip(" │").endswith(f"│ {taken}")  # the mentions it took in the latest run
    after = json.loads(cli("export", "mentions", "-f", "json", cwd=root).stdout)
    # the decision drops its own mentions; the engine, taught by it, keeps the code off texts
    # nearly the same as the rejected one ("Instant payouts." beside "Instant payouts!")
    def key(x: dict) -> tuple:
        return x["record_id"], x["touchpoint"], x["start"], x["end"]
    lost = [x for x in mentions if key(x) not in {key(y) for y in after}]
    assert len(after) == len(mentions) - len(lost) and len(lost) >= taken
    assert {x["touchpoint"] for x in lost} == {"Payouts and refunds"}
    assert f"undone {number}. reject" in cli("code", "undo", cwd=root).stdout
    assert "undone" in cli("code", "list", cwd=root).stdout
    cli("run", cwd=root)
    assert len(json.loads(cli("export", "mentions", "-f", "json", cwd=root).stdout)) == len(mentions)


def test_artefacts_are_stored_compressed_as_the_same_json_written_in_blocks(monkeypatch):
    import valuestory.stores.runs as runs
    from valuestory.pipeline.artefacts import Coding, Mention, TouchpointDef
    mentions = [Mention(record_id=f"nps:{i}", kind="nps", touchpoint="Payouts", quote=f"paid “late” {i} ✓", start=0,
                        end=9, sentiment=-0.5, polarity="negative", confidence=0.5) for i in range(25)]
    coding = Coding(touchpoints=[TouchpointDef(name="Payouts")], mentions=mentions, recoded={1: 2}, rejected=1)
    monkeypatch.setattr(runs, "PACK_ITEMS", 7)  # blocks of 7: 25 items cross three boundaries
    stored = runs.packed(coding)
    assert runs.unpacked(stored) == coding.model_dump_json().encode() and len(stored) < len(coding.model_dump_json())
    assert Coding.model_validate_json(runs.unpacked(stored)) == coding
    assert runs.unpacked('{"a": 1}') == '{"a": 1}'  # a run stored before compression still reads


def test_a_value_that_rounds_to_zero_is_never_shown_negative():
    from valuestory.render.numbers import signed
    assert (signed(-0.001), signed(-0.04, 1), signed(-0.5), signed(0.25), signed(None)) == ("+0.00", "+0.0", "-0.50",
                                                                                             "+0.25", "")
