"""Scale: ingest and an offline run at N survey responses, on the embedded store and on a
Chroma server started for the benchmark.

    .venv/bin/python benchmarks/scale.py [--responses 200000] [--server | --server-only]

Prints, for each store, the seconds and records per second of the ingest and of the offline
run, and the peak resident memory of each (measured in a child process per step, so one
step's memory is not another's). The responses are generated: short NPS comments mixing a
few dozen touchpoints and sentiments, with dates over a year.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHRASES = ["the payouts took {n} days", "invoicing is quick", "support never answered", "the app crashed twice",
           "pricing went up again", "onboarding was painless", "the quote builder saves me hours",
           "scheduling is confusing", "the card reader failed at a job", "renewal was easy",
           "the mobile app is slow", "integrations keep duplicating payments", "reports are great",
           "cancellation took four emails", "the website is clear", "training videos are out of date"]
STEP = """
import json, resource, sys, time
from pathlib import Path
from valuestory.project import Project
project = Project(Path(sys.argv[2]))
started = time.perf_counter()
if sys.argv[1] == "ingest":
    from valuestory.ingest.ingest import ingest
    [report] = ingest(project, [Path(sys.argv[3])], kind="nps")
    done = {"status": report.status, "records": report.records, "message": report.message}
else:
    from valuestory.pipeline.run import run
    result = run(project)
    done = {"mentions": result.summary.mentions}
done["seconds"] = time.perf_counter() - started
done["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(done))
"""


def write_responses(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Response ID", "Date", "Score", "Comment"])
        for i in range(n):
            said = ". ".join(rng.choice(PHRASES).format(n=rng.randint(2, 9)) for _ in range(rng.randint(1, 3)))
            w.writerow([f"R{i:07d}", f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", rng.randint(0, 10),
                        said.capitalize() + "."])


def step(kind: str, project: Path, data: Path | None = None) -> dict:
    args = [sys.executable, "-c", STEP, kind, str(project)] + ([str(data)] if data else [])
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(label: str, n: int, data: Path, project: Path) -> None:
    from valuestory.project import Project
    Project(project).create()
    ingested = step("ingest", project, data)
    ran = step("run", project)
    print(f"{label}: ingest {ingested['seconds']:.0f} s ({n / ingested['seconds']:,.0f} records/s, peak "
          f"{ingested['peak_mib']:,.0f} MiB, {ingested['status']}); offline run {ran['seconds']:.0f} s "
          f"({n / ran['seconds']:,.0f} records/s, peak {ran['peak_mib']:,.0f} MiB, {ran['mentions']:,} mentions)",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=200_000)
    parser.add_argument("--server", action="store_true", help="also on a Chroma server started for it")
    parser.add_argument("--server-only", action="store_true", help="only on the Chroma server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        data = tmp_path / "responses.csv"
        write_responses(data, args.responses)
        print(f"{args.responses:,} responses, {data.stat().st_size / 2**20:,.0f} MiB of CSV", flush=True)
        if not args.server_only:
            measure("embedded store", args.responses, data, tmp_path / "embedded")
        if args.server or args.server_only:
            sys.path.insert(0, str(ROOT))
            from tests.servers import free_port, running
            port = free_port()
            chroma = Path(sys.executable).with_name("chroma")
            with running([str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path",
                          str(tmp_path / "chroma")], f"http://127.0.0.1:{port}/api/v2/heartbeat",
                         tmp_path / "chroma.log") as server:
                project = tmp_path / "server"
                from valuestory.project import Project
                Project(project).create()
                config = project / "valuestory.toml"
                config.write_text(config.read_text().replace('# chroma_url = "http://127.0.0.1:8000"',
                                                             f'chroma_url = "http://127.0.0.1:{port}"'), encoding="utf-8")
                measure("Chroma server", args.responses, data, project)
                print(f"the Chroma server's own peak: {_peak_mib(server.pid):,.0f} MiB", flush=True)


def _peak_mib(pid: int) -> float:
    """A running process's peak resident memory (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024


if __name__ == "__main__":
    main()
