"""Faults, concurrency, hostile input and personal data: the probe of issue 12, re-run.

    .venv/bin/python benchmarks/robustness.py [--fuzz 2000] [--kills 25] [--pairs 8] [--seed N]

Prints one row per area: what was tried, how much failed cleanly, and how much was lost
(records or vectors missing or duplicated, tracebacks, leaks, exports that changed).
Takes a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import fuzzing  # noqa: E402
from tests.fake_openai import FaultyOpenAI  # noqa: E402
from tests.servers import free_port  # noqa: E402
from valuestory.ingest.ingest import ingest  # noqa: E402
from valuestory.pipeline.run import IncompleteRun, run  # noqa: E402
from valuestory.project import Project  # noqa: E402
from valuestory.render.exports import KINDS  # noqa: E402
from valuestory.render.exports import rows as export_rows  # noqa: E402
from valuestory.stores.runs import RunStore  # noqa: E402

CORPUS = ROOT / "data_samples" / "corpus"
EXE = str(Path(sys.executable).with_name("valuestory"))
FAULT_RATE = 0.3  # of requests failed (each at most twice), as in the probe


def new_project(where: Path) -> Project:
    project = Project(where)
    project.create()
    return project


def consistent(project: Project) -> tuple[int, int]:
    """(vectors missing or extra against the ledger, duplicate record ids)."""
    ledger_ids = {ref[0] for ref in project.ledger.chunk_refs()}
    index_ids = project.vectors.ids()
    records = [r.record_id for r in project.ledger.records()]
    return len(ledger_ids ^ index_ids), len(records) - len(set(records))


def check(root: Path) -> tuple[int, int, int]:
    """(vectors off, duplicates, records) of a project, read in a process of its own: Chroma
    opens one client per store, and dozens of them in one process exhaust it."""
    done = subprocess.run([sys.executable, __file__, "--check", str(root)], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the project at {root} cannot be opened after the test: {done.stderr[-1500:]}")
    return tuple(json.loads(done.stdout))


def fuzz(tmp: Path, seed: int, n: int) -> dict:
    folder = tmp / "fuzz"
    fuzzing.write(seed, n, folder)
    project = new_project(tmp / "fuzz-project")
    started = time.perf_counter()
    reports = ingest(project, [folder])
    seconds = time.perf_counter() - started
    failed = [r for r in reports if r.status == "failed"]
    tracebacks = sum("fault in valuestory" in r.message for r in failed)
    stored = {s.path: s.records for s in project.ledger.sources()}
    partial = sum(1 for r in reports if r.status == "stored" and stored.get(r.path) != r.records) + \
        sum(1 for r in failed if r.path in stored)
    lost, dupes = consistent(project)
    return {"area": "hostile files (fuzz)", "tried": f"{n} files",
            "failed": f"{len(failed)} refused with a message naming the file",
            "lost": f"{tracebacks} tracebacks, {partial} partial ingests, {lost} vectors off, {dupes} duplicates",
            "seconds": round(seconds, 1)}


def kills(tmp: Path, k: int, seed: int) -> dict:
    big = tmp / "kill-data" / "feedback.csv"
    big.parent.mkdir(parents=True)
    big.write_text("id,text\n" + "".join(f"f{i},Order {i} arrived late and the box was damaged\n" for i in range(6000)),
                   encoding="utf-8")
    reference = new_project(tmp / "kill-reference")
    ingest(reference, [big.parent, CORPUS / "nps"])
    expected = reference.ledger.record_count()
    reference.ledger.close()
    rng, bad = random.Random(seed), 0
    for i in range(k):
        root = tmp / f"kill-{i}"
        new_project(root)
        proc = subprocess.Popen([EXE, "ingest", str(big.parent), str(CORPUS / "nps"), "--project", str(root)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 6.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done = subprocess.run([EXE, "ingest", str(big.parent), str(CORPUS / "nps"), "--project", str(root)],
                              capture_output=True, text=True)
        lost, dupes, records = check(root)
        bad += bool(done.returncode or lost or dupes or records != expected)
    return {"area": "kill -9 during ingest", "tried": f"{k} kills, then ingest again", "failed": "—",
            "lost": f"{bad} projects with records or vectors lost or duplicated"}


def pairs(tmp: Path, m: int) -> dict:
    data = tmp / "pair-data" / "feedback.csv"
    data.parent.mkdir(parents=True)
    data.write_text("id,text\n" + "".join(f"p{i},The installer came late again for order {i}\n" for i in range(4000)),
                    encoding="utf-8")
    bad = waited = 0
    for i in range(m):
        root = tmp / f"pair-{i}"
        new_project(root)
        procs = [subprocess.Popen([EXE, "ingest", str(p), "--project", str(root)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for p in (data.parent, CORPUS)]
        outs = [p.communicate()[1] for p in procs]
        waited += any("waiting for valuestory" in o for o in outs)
        lost, dupes, _ = check(root)
        bad += bool(any(p.returncode for p in procs) or lost or dupes)
    return {"area": "two ingests at once", "tried": f"{m} pairs on one project",
            "failed": f"{waited} pairs where one waited for the other",
            "lost": f"{bad} pairs with a failure, unreadable or duplicated vectors"}


def exports(project: Project) -> str:
    reader = RunStore(project.ledger).latest()
    text = json.dumps({kind: export_rows(reader, kind, csv=True) for kind in KINDS}, sort_keys=True, default=str)
    return re.sub(r"127\.0\.0\.1:\d+", "PORT", re.sub(r"run-[0-9a-f]{12}", "RUN", text))


def model_faults(tmp: Path, seed: int) -> list[dict]:
    project = new_project(tmp / "model")
    ingest(project, [CORPUS])
    project.config.run.timeout, project.config.run.backoff = 1.0, 0.05
    port = free_port()
    with FaultyOpenAI(port=port) as clean:
        run(project, f"compat:fake@{clean.url}")
    expected, cached = exports(project), dict(project.ledger.cached_answers())
    project.ledger.clear_cache()
    with FaultyOpenAI(rate=FAULT_RATE, seed=seed, hang=2.5, port=port) as faulty:
        started = time.perf_counter()
        run(project, f"compat:fake@{faulty.url}")
        seconds = time.perf_counter() - started
    rows = [{"area": "model faults (transient)", "tried": f"{sum(faulty.attempts.values())} calls, "
             f"{sum(faulty.injected.values())} faults of {len(faulty.injected)} kinds",
             "failed": f"{faulty.early_retries} retries before Retry-After",
             "lost": f"exports {'identical to' if exports(project) == expected else 'DIFFERENT from'} a clean run; "
                     f"cache {'exactly' if dict(project.ledger.cached_answers()) == cached else 'NOT'} the clean run's",
             "seconds": round(seconds, 1)}]
    good = RunStore(project.ledger).latest().run_id
    started = time.perf_counter()
    down = subprocess.run([EXE, "run", "--llm", f"compat:x@http://127.0.0.1:{free_port()}/v1", "--project",
                           str(project.root)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    project = Project(project.root)
    rows.append({"area": "endpoint down", "tried": "valuestory run --llm compat:x@http://127.0.0.1:FREE/v1",
                 "failed": f"exit {down.returncode}, 'incomplete' said: {'incomplete' in down.stderr}",
                 "lost": f"previous run kept: {RunStore(project.ledger).latest().run_id == good}; "
                         f"exports unchanged: {exports(project) == expected}", "seconds": round(seconds, 1)})
    project.config.run.timeout, project.config.run.backoff, project.config.run.retries = 1.0, 0.05, 1
    project.ledger.clear_cache()
    try:
        with FaultyOpenAI(rate=1.0, max_faults=99, faults=("server_error", "wrong_schema"), port=port) as broken:
            run(project, f"compat:fake@{broken.url}")
        said = "run completed"
    except IncompleteRun as exc:
        said = str(exc).split(".")[0]
    rows.append({"area": "model faults (persistent)", "tried": "every call fails", "failed": said,
                 "lost": f"previous run kept: {RunStore(project.ledger).latest().run_id == good}; "
                         f"answers cached: {len(project.ledger.cache_summary())}"})
    return rows


def pii(tmp: Path) -> dict:
    from tests.test_redact import CORPUS_PII, PEOPLE, _pii_corpus
    from valuestory.render.report import render
    from valuestory.testing import ScriptedModel, answer
    placements = _pii_corpus(tmp / "pii")
    project = new_project(tmp / "pii-project")
    ingest(project, [tmp / "pii"])
    model = ScriptedModel(name="counting-fake", on_call=answer)
    run(project, "offline", model=model)
    reader = RunStore(project.ledger).latest()
    places = {"ledger": b"".join(f.read_bytes() for f in project.store_dir.rglob("*") if f.is_file()).decode("latin-1"),
              "model requests": json.dumps(model.calls, ensure_ascii=False),
              "exports": json.dumps([export_rows(reader, k, csv=True) for k in KINDS], ensure_ascii=False, default=str),
              "report": render(project, "html", reader)}
    secrets = [s for _, s in CORPUS_PII] + PEOPLE + [p.split()[-1] for p in PEOPLE]
    leaks = {where: sum(s in text or s.encode().decode("latin-1") in text for s in secrets)
             for where, text in places.items()}
    return {"area": "personal data", "tried": f"{len(CORPUS_PII)} shapes + {len(PEOPLE)} names, {placements} placements",
            "failed": "—", "lost": ", ".join(f"{n} in {w}" for w, n in leaks.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fuzz", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("VALUESTORY_FUZZ_SEED", "7")))
    parser.add_argument("--check", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check:
        project = Project(args.check)
        print(json.dumps([*consistent(project), project.ledger.record_count()]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = [fuzz(tmp, args.seed, args.fuzz), kills(tmp, args.kills, args.seed), pairs(tmp, args.pairs),
                *model_faults(tmp, args.seed), pii(tmp)]
    print("| area | tried | failed (cleanly) | lost | seconds |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['area']} | {r['tried']} | {r['failed']} | {r['lost']} | {r.get('seconds', '')} |")


if __name__ == "__main__":
    main()
