"""Fault injection: a full `valuestory run` against a scripted OpenAI-compatible server on
127.0.0.1 (tests/fake_openai.py) that rate-limits with Retry-After, fails with 500 and 503,
hangs past the timeout, drops the connection halfway, and answers with broken JSON, the
wrong schema or invented quotes. Transient faults leave every export as a clean run's;
persistent ones make the run incomplete, leave the last complete run in place and poison
nothing; a down endpoint fails in seconds."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from valuestory.ingest.ingest import ingest
from valuestory.pipeline.run import IncompleteRun, run
from valuestory.project import Project
from valuestory.render.exports import KINDS
from valuestory.render.exports import rows as export_rows
from valuestory.stores.runs import RunStore

from .conftest import CORPUS
from .fake_openai import FAULTS, FaultyOpenAI
from .servers import free_port

pytestmark = pytest.mark.integration
TIMEOUT = 1.0  # seconds a call may take here; the server's hang outlasts it


def exports(project: Project) -> str:
    reader = RunStore(project.ledger).latest()
    rows = {kind: export_rows(reader, kind, csv=True) for kind in KINDS}
    text = json.dumps(rows, sort_keys=True, default=str)
    # what differs between two runs by design: the run's id, the test server's port
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", re.sub(r"run-[0-9a-f]{12}", "RUN", text))


@pytest.fixture
def sample(tmp_path: Path) -> Project:
    project = Project(tmp_path / "p")
    project.create()
    ingest(project, [CORPUS])
    project.config.run.timeout, project.config.run.backoff = TIMEOUT, 0.05
    return project


def test_transient_faults_leave_every_export_as_a_clean_run_and_nothing_poisoned(sample):
    port = free_port()  # the model's name holds its URL, and the cache is keyed by the model
    with FaultyOpenAI(port=port) as clean:
        run(sample, f"compat:fake@{clean.url}")
    expected, cached = exports(sample), dict(sample.ledger.cached_answers())
    assert clean.answered > 5 and cached and '"mentions": []' not in expected
    sample.ledger.clear_cache()
    with FaultyOpenAI(rate=0.8, seed=7, max_faults=3, hang=TIMEOUT * 2.5, port=port) as faulty:
        run(sample, f"compat:fake@{faulty.url}")
    print(f"{clean.answered} requests; faults injected: {dict(faulty.injected)}")
    assert exports(sample) == expected
    assert sum(faulty.injected.values()) >= len(FAULTS) and set(faulty.injected) == set(FAULTS), faulty.injected
    assert faulty.early_retries == 0  # every retry after a 429 waited its Retry-After
    # exactly the clean run's answers were cached, byte for byte: none of the broken ones
    assert dict(sample.ledger.cached_answers()) == cached


def test_persistent_faults_make_the_run_incomplete_and_the_last_complete_run_stays(sample):
    port = free_port()
    with FaultyOpenAI(port=port) as clean:
        good = run(sample, f"compat:fake@{clean.url}")
    expected = exports(sample)
    sample.ledger.clear_cache()
    sample.config.run.retries = 1
    with FaultyOpenAI(rate=1.0, max_faults=99, faults=("server_error", "wrong_schema"), port=port) as broken:
        with pytest.raises(IncompleteRun, match=r"the run is incomplete: \d+ of \d+ .* requests"):
            run(sample, f"compat:fake@{broken.url}")
    assert RunStore(sample.ledger).latest().run_id == good.run_id and exports(sample) == expected
    assert sample.ledger.cache_summary() == []  # nothing that failed was cached


def test_a_down_endpoint_fails_in_seconds_with_a_non_zero_exit_and_keeps_the_last_run(sample):
    with FaultyOpenAI() as clean:
        good = run(sample, f"compat:fake@{clean.url}")
    expected = exports(sample)
    sample.ledger.close()
    exe = Path(sys.executable).with_name("valuestory")
    started = time.monotonic()
    done = subprocess.run([str(exe), "run", "--llm", f"compat:fake@http://127.0.0.1:{free_port()}/v1",
                           "--project", str(sample.root)], capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - started
    assert done.returncode != 0 and "incomplete" in done.stderr, done.stderr[-2000:]
    assert seconds < 30, seconds
    project = Project(sample.root)
    assert RunStore(project.ledger).latest().run_id == good.run_id and exports(project) == expected
    project.ledger.close()
