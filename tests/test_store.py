"""Ingest into a real embedded Chroma store and the SQLite ledger."""

import hashlib
import shutil

import numpy as np
import pytest

from valuestory.errors import ValuestoryError
from valuestory.ingest.ingest import forget, ingest, recover, reindex
from valuestory.project import Project
from valuestory.stores.embeddings import embedders
from valuestory.stores.search import search
from valuestory.stores.vectors import EmbeddingMismatch

from .conftest import CORPUS

NPS = ("id,score,comment,segment\n1,9,Instant payouts land the same evening,Solo\n"
       "2,2,The QuickBooks sync duplicated every invoice,Team\n3,4,Waited five days for my payout to arrive,Solo\n")


class HashEmbedder:
    """A plugin embedder: registered exactly as an outside package would."""
    name, dim = "test:hash-16", 16

    def __init__(self, arg: str = "") -> None:
        pass

    def embed(self, texts):
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:16], dtype=np.uint8) for t in texts]
        v = np.array(rows, dtype=np.float32) + 1
        return v / np.linalg.norm(v, axis=1, keepdims=True)


embedders.register("testhash")(HashEmbedder)


def index_matches_ledger(project: Project) -> None:
    ledger_ids = {row[0] for row in project.ledger.all_chunks()}
    chroma_ids = set(project.vectors.collection.get(include=[])["ids"])
    assert chroma_ids == ledger_ids
    assert not project.ledger.pending()


def test_ingest_is_idempotent(project, write):
    path = write("nps/s.csv", NPS)
    [r] = ingest(project, [path.parent])
    assert (r.status, r.kind, r.records, r.added, r.chunks) == ("stored", "nps", 3, 3, 3)
    [again] = ingest(project, [path.parent])
    assert (again.status, again.records) == ("unchanged", 3)
    assert project.vectors.count() == 3
    index_matches_ledger(project)


def test_changed_file_replaces_its_records_without_orphans(project, write):
    path = write("s.csv", NPS)
    ingest(project, [path])
    write("s.csv", NPS.replace("3,4,Waited five days for my payout to arrive,Solo\n", "")
          .replace("every invoice", "every invoice twice") + "4,8,Quotes in minutes,Team\n")
    [r] = ingest(project, [path])
    assert (r.status, r.records, r.added, r.changed, r.removed) == ("stored", 3, 1, 1, 1)
    texts = {rec.record_id: rec.text for rec in project.ledger.records()}
    assert set(texts) == {"nps:1", "nps:2", "nps:4"} and texts["nps:2"].endswith("twice")
    index_matches_ledger(project)


def test_a_failing_file_leaves_what_was_stored_intact(project, write):
    path = write("s.csv", NPS)
    ingest(project, [path])
    write("s.csv", NPS + "5,12,impossible score,Team\n")
    [r] = ingest(project, [path])
    assert r.status == "failed" and "line 5" in r.message and "outside 0-10" in r.message
    assert [rec.record_id for rec in project.ledger.records()] == ["nps:1", "nps:2", "nps:3"]
    assert search(project, "payout", 1)[0]["record_id"] in {"nps:1", "nps:3"}
    index_matches_ledger(project)


def test_one_bad_file_does_not_stop_the_others(project, write):
    write("in/good.csv", NPS)
    write("in/empty.txt", "")
    write("in/notes.pdf", "%PDF")
    reports = {r.path.rsplit("/", 1)[-1]: r for r in ingest(project, [project.root.parent / "in"])}
    assert reports["good.csv"].status == "stored"
    assert reports["empty.txt"].status == "failed" and "empty" in reports["empty.txt"].message
    assert reports["notes.pdf"].status == "skipped"


def test_ids_another_source_holds_are_refused_unless_the_file_holds_all_of_them(project, write):
    ingest(project, [write("a.csv", NPS)])
    some = NPS.splitlines()[0] + "\n" + NPS.splitlines()[1] + "\n9,5,Something else entirely,Solo\n"
    [r] = ingest(project, [write("b.csv", some)])  # one of a.csv's records and another: not the same source
    assert r.status == "failed" and "already stored from" in r.message and "a.csv" in r.message
    # every record of a.csv (a copy, a moved file, a cumulative export): it takes a.csv's place
    [c] = ingest(project, [write("c.csv", NPS + "4,7,A new answer,Team\n")])
    assert c.status == "stored" and (c.added, c.changed) == (1, 0) and [s.rsplit("/", 1)[-1] for s in c.superseded] == \
        ["a.csv"]
    assert project.ledger.record_count() == 4 and [s.path.rsplit("/", 1)[-1] for s in project.ledger.sources()] == \
        ["c.csv"]
    index_matches_ledger(project)


def test_interrupted_ingest_is_cleaned_up(project, write):
    ingest(project, [write("s.csv", NPS)])
    # an ingest that died after writing to Chroma but before committing the ledger
    project.ledger.mark_pending(["ghost#0"])
    project.vectors.add(["ghost#0"], ["ghost text"], [{"record_id": "ghost", "kind": "nps"}])
    assert recover(project.ledger, project.vectors) == 1
    index_matches_ledger(project)


def test_forget_removes_records_and_vectors(project, write):
    path = write("s.csv", NPS)
    ingest(project, [path])
    assert forget(project, project.relative(path)) == 3
    assert list(project.ledger.records()) == [] and project.vectors.count() == 0
    with pytest.raises(ValuestoryError, match="no stored source"):
        forget(project, "nope.csv")


def test_embedding_model_mismatch_is_an_error_and_reindex_switches(project, write):
    ingest(project, [write("s.csv", NPS)])
    project.config.store.embedding = "testhash"
    reopened = Project(project.root)
    reopened.config.store.embedding = "testhash"
    with pytest.raises(EmbeddingMismatch, match="wordllama.*testhash|reindex"):
        reopened.vectors  # noqa: B018 (opening the store is what fails)
    assert reindex(reopened, "testhash") == 3
    assert 'embedding = "testhash"' in reopened.config_path.read_text()
    fresh = Project(project.root)
    assert fresh.vectors.embedder.name == "test:hash-16" and fresh.vectors.count() == 3


def test_search_finds_the_passage_by_meaning(project):
    shutil.copytree(CORPUS / "nps", project.root / "nps")
    ingest(project, [project.root / "nps"])
    hits = search(project, "money takes days to reach my bank account", 5)
    assert len(hits) == 5
    assert sum("payout" in h["snippet"].lower() for h in hits) >= 3
    record = {r.record_id: r for r in project.ledger.records()}[hits[0]["record_id"]]
    assert record.text[hits[0]["start"]:hits[0]["end"]].strip() == hits[0]["snippet"] or \
        " ".join(record.text[hits[0]["start"]:hits[0]["end"]].split()) == hits[0]["snippet"]
    assert all(h["kind"] == "nps" for h in search(project, "payout", 3, kind="nps"))
    assert search(project, "payout", 3, kind="sales") == []


def test_whole_sample_corpus(project):
    reports = ingest(project, [CORPUS])
    assert [r.path for r in reports if r.status != "stored"] == []
    by_kind = {k: (s, r) for k, s, r, _, _ in project.ledger.counts_by_kind()}
    assert by_kind["interview"][1] >= 12 and by_kind["nps"][1] >= 300
    assert by_kind["support"][1] >= 60 and by_kind["sales"][1] >= 40
    index_matches_ledger(project)
    everything = " ".join(r.text for r in project.ledger.records())
    for secret in ("mike.delgado@delgadoplumbing.com", "555-201-7788", "4111 1111 1111 1111",
                   "9f8e7d6c5b4a", "Dana Ruiz", "Marco Diaz", "(415) 555-0148", "07700 900461"):
        assert secret not in everything


# --- one writer at a time ---------------------------------------------------------------------

def test_a_second_writer_waits_for_the_lock_and_is_told_who_holds_it(tmp_path):
    import subprocess
    import sys
    import time

    from valuestory.stores.lock import writing
    store = tmp_path / ".valuestory"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from valuestory.stores.lock import writing\n"
        f"with writing(Path({str(store)!r}), 'ingest'):\n    print('held', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(ValuestoryError, match=r"valuestory ingest \(pid \d+, since .*did not finish within 1 s"):
            with writing(store, "run", wait=1.0):
                pass
        assert time.monotonic() - started >= 1.0
    finally:
        holder.kill()
        holder.wait()
    with writing(store, "run", wait=5.0):  # a killed holder leaves no lock behind
        with writing(store, "reindex", wait=0.0):  # re-entrant within one process
            pass


def test_simultaneous_ingests_take_turns_and_every_vector_reads_back(tmp_path):
    """Two real `valuestory ingest` processes on one project: the second, started while the
    first writes, says it waits for it; both complete and every vector reads back."""
    import subprocess
    import sys
    import time
    from pathlib import Path as P
    exe = P(sys.executable).with_name("valuestory")
    root = tmp_path / "proj"
    Project(root).create()
    lock = root / ".valuestory" / "write.lock"
    big = tmp_path / "big" / "feedback.csv"  # long enough to still be writing when the second starts
    big.parent.mkdir()
    big.write_text("id,text\n" + "".join(f"f{i},Order {i} arrived late and the box was damaged again\n"
                                          for i in range(15000)), encoding="utf-8")
    parts = [[big.parent, CORPUS / "interviews"], [CORPUS / "nps", CORPUS / "sales", CORPUS / "feedback"]]
    first = subprocess.Popen([str(exe), "ingest", *map(str, parts[0]), "--project", str(root)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (lock.exists() and '"ingest"' in lock.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    second = subprocess.Popen([str(exe), "ingest", *map(str, parts[1]), "--project", str(root)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outs
    assert f"waiting for valuestory ingest (pid {first.pid}" in outs[1][1]
    project = Project(root)
    assert len(project.ledger.sources()) == sum(1 for part in parts for d in part for f in d.iterdir() if f.is_file())
    index_matches_ledger(project)
    ids = [row[0] for row in project.ledger.all_chunks()]
    got = project.vectors.collection.get(ids=ids, include=["embeddings"])
    assert sorted(got["ids"]) == sorted(ids) and all(len(e) for e in got["embeddings"])
