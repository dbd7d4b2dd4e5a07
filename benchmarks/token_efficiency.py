"""Token efficiency of the LLM path, measured with a counting fake model on the sample corpus.

    .venv/bin/python benchmarks/token_efficiency.py

Prints `ratio=<LLM input tokens / corpus tokens>` for a full run (target: at most 1.5: each
chunk is read by a model about once, later stages work from the mentions), its output tokens
as a share of the input (of the scripted stand-in, so only a rough guide), the model calls of
a second run on unchanged inputs (target: 0), and the cost of a run after adding 10% new
records, as a share of the full run (target: at most 0.15).
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

from valuestory.ingest.ingest import ingest
from valuestory.pipeline.run import run
from valuestory.project import Project
from valuestory.testing import ScriptedModel, answer

ROOT = Path(__file__).resolve().parent.parent


def by_stage(project: Project, run_id: str) -> str:
    return ", ".join(f"{stage} {calls} calls {tokens} in/{out} out" for stage, calls, tokens, out in
                     project.ledger.calls_by_stage(run_id))


def llm_tokens(project: Project, run_id: str) -> tuple[int, int, int]:
    totals = project.ledger.call_totals(run_id)
    return totals["calls"] - totals["cache_hits"], totals["tokens_in"], totals["tokens_out"]


def main() -> None:
    # Each project has its own pseudonym salt, so chunk ids, and with them where requests
    # end, differ between projects: three projects show the spread.
    for _ in range(3):
        measure()


def measure() -> None:
    model = ScriptedModel(name="counting-fake", on_call=answer)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(ROOT / "data_samples" / "corpus", root / "corpus")
        project = Project(root / "project")
        project.create()
        ingest(project, [root / "corpus"])
        corpus_tokens = project.ledger.corpus_tokens()
        records = project.ledger.record_count()

        full = run(project, model=model)
        calls1, tokens1, out1 = llm_tokens(project, full.run_id)
        stages = by_stage(project, full.run_id)
        again = run(project, model=model)
        calls2, tokens2, _ = llm_tokens(project, again.run_id)

        new = max(1, records // 10)
        with (root / "corpus" / "nps" / "new_responses.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["Response ID", "Score", "Comment"])
            for i in range(new):
                w.writerow([f"NEW-{i}", i % 11, f"New response {i}: the invoices were {['slow', 'fine', 'great'][i % 3]} "
                                                f"and support answered in {i % 5 + 1} days."])
        ingest(project, [root / "corpus"])
        more = run(project, model=model)
        calls3, tokens3, _ = llm_tokens(project, more.run_id)

    print(f"corpus: {records} records, {corpus_tokens} tokens (cl100k)")
    print(f"ratio={tokens1 / corpus_tokens:.2f} (full run: {calls1} calls, {tokens1} input tokens: {stages})")
    print(f"output tokens: {out1} = {out1 / tokens1:.2f} of the input (the scripted stand-in's answers: a real "
          "model's differ)")
    print(f"second run on unchanged inputs: {calls2} model calls, {tokens2} input tokens")
    print(f"after adding {new} new records ({new / records:.0%}): {calls3} model calls, {tokens3} input tokens "
          f"= {tokens3 / tokens1:.1%} of a full run")


if __name__ == "__main__":
    main()
