"""Token efficiency of the LLM path, measured with stand-in models on the sample corpus.

    .venv/bin/python benchmarks/token_efficiency.py [--projects 3] [--scale 10]

For a full model run (targets: input at most 1.25x the corpus tokens; 10% new records at most
10% of a full run) it prints, per stage, the calls and the input and output tokens; the input a
provider's prompt caching would serve (the longest prefix a request shares with one sent
before it, from 1,024 tokens in steps of 128, as OpenAI caches); the priced cost with and
without that caching; the calls of a second run on unchanged inputs (target: 0); and the cost
of a run after adding 10% new records, as a share of the full run.

The answers come from `valuestory.testing.terse`, a stand-in that answers as tersely as the
schemas allow and codes as many mentions as the sample's hand coders did, so output/input is
a realistic guide, not a real model's figure. `--scale N` also runs on the sample with N times
its responses added (generated NPS comments), where the fixed cost of the instructions weighs
less; the request budget table shows what `[run] request_tokens` trades: fewer requests
repeat the instructions less, but an answer about as long as its request must fit the
model's output limit (16,384 tokens for gpt-4o and gpt-4o-mini).
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import tempfile
from pathlib import Path

from valuestory.ingest.ingest import ingest
from valuestory.llm.costs import Cost, cached_prefixes
from valuestory.pipeline.mentions import llm as mentions_llm
from valuestory.pipeline.run import corpus_from, run
from valuestory.project import Project
from valuestory.testing import ScriptedModel, terse
from valuestory.tokens import count_tokens

ROOT = Path(__file__).resolve().parent.parent
PRICED = ("openai:gpt-4o-mini", "openai:gpt-4.1-mini")
OUTPUT_LIMIT = 16_384  # tokens one answer may take on gpt-4o and gpt-4o-mini
BUDGETS = (4_000, 10_000, 16_000, 24_000)
COMMENTS = ["the payouts took {n} days", "invoicing is quick", "support never answered my ticket",
            "the app crashed twice this week", "pricing went up again", "onboarding was painless",
            "the quote builder saves me hours", "scheduling is confusing", "renewal was easy"]


def by_stage(project: Project, run_id: str) -> str:
    return ", ".join(f"{stage} {calls} calls {tokens} in/{out} out" for stage, calls, tokens, out in
                     project.ledger.calls_by_stage(run_id))


def cost_of(project: Project, run_id: str, sent: list[list[dict]]) -> Cost:
    totals = project.ledger.call_totals(run_id)
    return Cost(totals["tokens_in"], sum(cached_prefixes(sent)), totals["tokens_out"])


def priced(cost: Cost) -> str:
    return "; ".join(f"{m.partition(':')[2]} ${cost.price(m, caching=False):.4f} uncached, "
                     f"${cost.price(m):.4f} with caching" for m in PRICED)


def add_responses(folder: Path, n: int, name: str, seed: int = 7) -> None:
    rng = random.Random(seed)
    with (folder / "nps" / name).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Response ID", "Score", "Comment"])
        for i in range(n):
            picked = rng.sample(COMMENTS, 2)
            w.writerow([f"{name[:3].upper()}-{i}", rng.randint(0, 10),
                        f"{picked[0].format(n=rng.randint(2, 9)).capitalize()}, and {picked[1].format(n=3)}."])


def measure(scale: int = 0, verbose: bool = True) -> float:
    stand_in = ScriptedModel(name="terse-stand-in", on_call=terse)  # its calls: what each request sent
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(ROOT / "data_samples" / "corpus", root / "corpus")
        project = Project(root / "project")
        project.create()
        ingest(project, [root / "corpus"])
        if scale:
            add_responses(root / "corpus", project.ledger.record_count() * scale, "scaled.csv")
            ingest(project, [root / "corpus"])
        corpus_tokens, records = project.ledger.corpus_tokens(), project.ledger.record_count()

        full = run(project, model=stand_in)
        full_cost = cost_of(project, full.run_id, stand_in.calls)
        stages = by_stage(project, full.run_id)
        calls_before = len(stand_in.calls)
        run(project, model=stand_in)  # unchanged inputs: every answer from the cache
        again_calls = len(stand_in.calls) - calls_before

        new = max(1, records // 10)
        add_responses(root / "corpus", new, "new_responses.csv", seed=11)
        ingest(project, [root / "corpus"])
        start = len(stand_in.calls)
        more = run(project, model=stand_in)
        more_cost = cost_of(project, more.run_id, stand_in.calls[start:])
        more_stages = by_stage(project, more.run_id)
        budgets = budget_table(project) if verbose and not scale else []

    ratio = full_cost.tokens_in / corpus_tokens
    label = f"sample x{scale + 1}" if scale else "sample"
    print(f"{label}: {records} records, {corpus_tokens} corpus tokens (cl100k)")
    print(f"  full run: ratio={ratio:.2f} ({full_cost.tokens_in} input tokens: {stages})")
    if verbose:
        print(f"  output/input = {full_cost.tokens_out / full_cost.tokens_in:.2f} (terse stand-in); "
              f"prompt caching would serve {full_cost.cached} of the input tokens")
        print(f"  priced: {priced(full_cost)}")
        print(f"  second run on unchanged inputs: {again_calls} model calls")
        share = {m: more_cost.price(m) / full_cost.price(m) for m in PRICED}
        print(f"  after adding {new} new records ({new / records:.0%}): {more_cost.tokens_in} input tokens = "
              f"{more_cost.tokens_in / full_cost.tokens_in:.1%} of a full run's ({more_stages}); priced "
              + ", ".join(f"{share[m]:.1%} on {m.partition(':')[2]}" for m in PRICED))
    for line in budgets:
        print(line)
    return ratio


def budget_table(project: Project) -> list[str]:
    """What [run] request_tokens trades on this corpus: requests, input, the longest answer."""
    corpus = corpus_from(project)
    names = [mentions_llm.seed_text(t) for t in mentions_llm.seeds(corpus)]
    lines = ["  request_tokens | mentions requests | their input | longest answer (terse) | fits a 16k output limit"]
    for budget in BUDGETS:
        reqs = mentions_llm.mention_requests(mentions_llm.pack(mentions_llm.units(corpus), budget), names)
        longest = max(count_tokens(terse(r.messages, r.schema.model_json_schema())) for r in reqs)
        lines.append(f"  {budget:>14,} | {len(reqs):>17} | {sum(r.tokens() for r in reqs):>11,} | {longest:>22,} | "
                     f"{'yes' if longest <= OUTPUT_LIMIT else 'no'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=3,
                        help="projects on the sample: each has its own pseudonym salt, so chunk ids and where "
                             "requests end differ")
    parser.add_argument("--scale", type=int, default=10, help="also run with this many times the sample's responses "
                                                              "added (0: not)")
    args = parser.parse_args()
    ratios = [measure(verbose=i == 0) for i in range(args.projects)]
    print(f"full-run ratio over {args.projects} projects: " + ", ".join(f"{r:.2f}" for r in ratios))
    if args.scale:
        measure(args.scale)


if __name__ == "__main__":
    main()
