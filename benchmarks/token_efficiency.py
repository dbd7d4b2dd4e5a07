"""Token efficiency of the LLM path, measured with a counting fake model on the sample corpus.

    .venv/bin/python benchmarks/token_efficiency.py

Prints `ratio=<LLM input tokens / corpus tokens>` for a full run (target: at most 1.5: each
chunk is read by a model about once, later stages work from the mentions), the model calls of
a second run on unchanged inputs (target: 0), and the cost of a run after adding 10% new
records, as a share of the full run (target: at most 0.15).
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
from pathlib import Path

from valuestory.pipeline import synthesis
from valuestory.pipeline.ingest import ingest
from valuestory.pipeline.models import ScriptedModel
from valuestory.project import Project

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fake model that answers every stage lives in tests/
from tests.fake_model import answer  # noqa: E402


def by_stage(project: Project, run_id: str) -> str:
    rows = project.ledger.db.execute("SELECT stage, COUNT(*), SUM(tokens_in) FROM calls WHERE run_id = ? AND NOT cache_hit "
                                     "GROUP BY stage ORDER BY MIN(id)", (run_id,)).fetchall()
    return ", ".join(f"{stage} {calls} calls {tokens} tokens" for stage, calls, tokens in rows)


def llm_tokens(project: Project, run_id: str) -> tuple[int, int]:
    row = project.ledger.db.execute("SELECT COUNT(*) - COALESCE(SUM(cache_hit), 0), COALESCE(SUM(tokens_in), 0) "
                                    "FROM calls WHERE run_id = ?", (run_id,)).fetchone()
    return row[0], row[1]


def main() -> None:
    # Each project has its own pseudonym salt, so chunk ids, and with them where requests
    # end, differ between projects: three projects show the spread.
    for _ in range(3):
        measure()


def measure() -> None:
    model = ScriptedModel(name="counting-fake", on_call=answer)
    synthesis.make_model = lambda spec: model
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(ROOT / "data_samples" / "corpus", root / "corpus")
        project = Project(root / "project")
        project.create()
        ingest(project, [root / "corpus"])
        corpus_tokens = project.ledger.db.execute("SELECT SUM(tokens) FROM chunks").fetchone()[0]
        records = project.ledger.db.execute("SELECT COUNT(*) FROM records").fetchone()[0]

        full = synthesis.run_synthesis(project, "counting-fake")
        calls1, tokens1 = llm_tokens(project, full.run_id)
        stages = by_stage(project, full.run_id)
        again = synthesis.run_synthesis(project, "counting-fake")
        calls2, tokens2 = llm_tokens(project, again.run_id)

        new = max(1, records // 10)
        with (root / "corpus" / "nps" / "new_responses.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["Response ID", "Score", "Comment"])
            for i in range(new):
                w.writerow([f"NEW-{i}", i % 11, f"New response {i}: the invoices were {['slow', 'fine', 'great'][i % 3]} "
                                                f"and support answered in {i % 5 + 1} days."])
        ingest(project, [root / "corpus"])
        more = synthesis.run_synthesis(project, "counting-fake")
        calls3, tokens3 = llm_tokens(project, more.run_id)

    print(f"corpus: {records} records, {corpus_tokens} tokens (cl100k)")
    print(f"ratio={tokens1 / corpus_tokens:.2f} (full run: {calls1} calls, {tokens1} input tokens: {stages})")
    print(f"second run on unchanged inputs: {calls2} model calls, {tokens2} input tokens")
    print(f"after adding {new} new records ({new / records:.0%}): {calls3} model calls, {tokens3} input tokens "
          f"= {tokens3 / tokens1:.1%} of a full run")


if __name__ == "__main__":
    main()
