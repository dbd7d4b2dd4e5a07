"""The report of a large project: 20,000 generated survey responses plus the sample corpus,
run offline; how long writing the report takes, how big the file is, and how long headless
Chromium takes to load and lay it out.

    .venv/bin/python benchmarks/report_scale.py [--responses 20000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ingest import generate  # noqa: E402  (the same generated survey batch as the ingest benchmark)

from valuestory.ingest.ingest import ingest  # noqa: E402
from valuestory.pipeline.run import run  # noqa: E402
from valuestory.project import Project  # noqa: E402
from valuestory.render.report import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def browser_seconds(path: Path) -> float:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        page.evaluate("document.body.scrollHeight")  # forces layout
        seconds = time.perf_counter() - start
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "inputs" / "survey", args.responses, 0)
        shutil.copytree(ROOT / "data_samples" / "corpus", root / "inputs" / "corpus")
        project = Project(root / "project")
        project.create()
        ingest(project, [root / "inputs"])
        run(project)
        records = project.ledger.record_count()
        for fmt in ("html", "md"):
            start = time.perf_counter()
            path = write(project, root / f"report.{fmt}", fmt)
            print(f"{records} records: {fmt} report written in {time.perf_counter() - start:.1f} s, "
                  f"{path.stat().st_size / 1024:,.0f} KiB")
        print(f"headless Chromium: loaded and laid out in {browser_seconds(root / 'report.html'):.2f} s")


if __name__ == "__main__":
    main()
