"""The workspace's speed: from `valuestory workspace` to its first page, and each page's time
on its first view and when seen again, on a real server on 127.0.0.1.

    .venv/bin/python benchmarks/workspace.py [--project DIR | --responses N] [--starts 5]

By default on a scratch project of the sample corpus (ingested and run offline first); with
--responses N on N generated survey responses (as benchmarks/scale.py writes them); with
--project on a project you have. Prints the median, minimum and maximum of the start, then a
row per page: status, the first view's seconds, and the median of three more.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("/map", "/scorecard", "/touchpoint?name={top}", "/review", "/decisions", "/compare?since={middle}",
         "/search?q=waiting+for+the+money", "/map?kind=nps", "/scorecard?kind=nps", "/export/scorecard.csv")
POLL_SECONDS = 0.02


def prepare(args: argparse.Namespace, scratch: Path) -> Path:
    from valuestory.ingest.ingest import ingest
    from valuestory.pipeline.run import run
    from valuestory.project import Project
    if args.project:
        return args.project
    project = Project(scratch / "project")
    project.create()
    if args.responses:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from scale import write_responses
        data = scratch / "responses.csv"
        write_responses(data, args.responses)
        ingest(project, [data], kind="nps")
    else:
        ingest(project, [ROOT / "data_samples" / "corpus"])
    run(project, "offline")
    project.ledger.close()
    return project.root


def started(project: Path, port: int) -> tuple[subprocess.Popen, float]:
    exe = Path(sys.executable).with_name("valuestory")
    begun = time.perf_counter()
    server = subprocess.Popen([str(exe), "workspace", "-p", str(project), "--port", str(port), "--no-browser"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/map", timeout=600).read()
            return server, time.perf_counter() - begun
        except OSError:
            if server.poll() is not None:
                raise SystemExit("the workspace did not start") from None
            time.sleep(POLL_SECONDS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(url: str) -> tuple[int, float]:
    begun = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=600) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - begun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, help="an existing project with a run")
    parser.add_argument("--responses", type=int, help="a scratch project of N generated survey responses")
    parser.add_argument("--starts", type=int, default=5, help="times the workspace is started (default 5)")
    args = parser.parse_args()
    from valuestory.project import Project
    from valuestory.stores.runs import RunStore
    with tempfile.TemporaryDirectory(prefix="valuestory-workspace-") as tmp:
        project = prepare(args, Path(tmp))
        opened = Project(project)
        reader = RunStore(opened.ledger).latest()
        top = reader.info.summary.fix_first[0] if reader.info.summary.fix_first else reader.coding.touchpoints[0].name
        dates = sorted(r.date for r in opened.ledger.records() if r.date)
        middle = dates[len(dates) // 2][:10] if dates else "2026-01-01"
        records = opened.ledger.record_count()
        opened.ledger.close()
        starts = []
        for _ in range(args.starts):
            port = free_port()
            server, seconds = started(project, port)
            starts.append(seconds)
            server.terminate()
            server.wait()
        print(f"{records:,} records; from `valuestory workspace` to the first page (/map): median "
              f"{statistics.median(starts):.2f} s, min {min(starts):.2f}, max {max(starts):.2f} ({len(starts)} starts)")
        port = free_port()
        server, _ = started(project, port)
        try:
            for path in PAGES:
                url = f"http://127.0.0.1:{port}" + path.format(top=urllib.request.quote(top), middle=middle)
                if path == "/map":
                    first = None  # the start already built it: see the start's figure
                    status, _ = timed(url)
                else:
                    status, first = timed(url)
                again = statistics.median(timed(url)[1] for _ in range(3))
                print(f"{path.split('?')[0] + ('?' + path.split('?')[1].split('=')[0] if '?' in path else ''):24} "
                      f"{status}  first {'(at start)' if first is None else f'{first:.3f} s'}  again {again:.3f} s")
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
