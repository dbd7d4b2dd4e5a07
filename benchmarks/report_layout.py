"""How the report reads: its height at a phone's, a laptop's and a wide screen's width, whether
the page scrolls sideways, and how many A4 pages it prints, folded and with every section open.

    .venv/bin/python benchmarks/report_layout.py [REPORT.html] [--shots DIR]

Without a report it ingests and runs the sample corpus offline in a scratch project first.
Needs Debian's chromium (`make browser`).
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (390, 1024, 1400)
OPEN_ALL = "document.querySelectorAll('details').forEach(d => d.open = true)"


def sample_report(folder: Path) -> Path:
    from valuestory.ingest.ingest import ingest
    from valuestory.pipeline.run import run
    from valuestory.project import Project
    from valuestory.render.report import write
    project = Project(folder / "p")
    project.create()
    ingest(project, [ROOT / "data_samples" / "corpus"])
    run(project)
    return write(project, folder / "report.html")


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", type=Path)
    parser.add_argument("--shots", type=Path, help="keep a screenshot of each width's first screen here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as tmp:
        report = args.report or sample_report(Path(tmp))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(report.resolve().as_uri())
                if args.shots:
                    args.shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(args.shots / f"top-{width}.png"))
                folded = page.evaluate("[document.documentElement.scrollHeight, document.documentElement.scrollWidth]")
                page.evaluate(OPEN_ALL)
                opened = page.evaluate("[document.documentElement.scrollHeight, document.documentElement.scrollWidth]")
                print(f"{width} px: {folded[0]:,} px tall folded, {opened[0]:,} px with every section open; "
                      f"page width {max(folded[1], opened[1]):,} px" + (" (scrolls sideways)" if max(
                          folded[1], opened[1]) > width else ""))
                page.close()
            page = browser.new_page()
            page.goto(report.resolve().as_uri())
            folded_pages = pages(page.pdf(format="A4"))
            page.evaluate(OPEN_ALL)
            print(f"A4 pages: {folded_pages} folded, {pages(page.pdf(format='A4'))} with every section open")
            browser.close()


if __name__ == "__main__":
    main()
