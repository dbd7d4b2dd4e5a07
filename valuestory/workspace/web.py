"""The researcher's workspace as a local web app: the value story map, the scorecard, each
touchpoint's mentions in their records, recoding in place, the review queue, slices,
comparisons, search and exports, as server-rendered pages that need no JavaScript.

As the audit: bound to 127.0.0.1 by `serve`; every form carries a token made when the app
starts, and a post without it (a cross-site form) is refused; nothing is served from disk.
Every page is read through a run (`run=`, default the latest) and a slice (`segment=`,
`persona=`, `kind=`, `since=`, `until=`), carried from page to page in its links. Decisions
are the project's own (`valuestory code list` shows them) and are applied by the next run:
"Apply" runs the pipeline again, which codes nothing again offline and is quick."""

from __future__ import annotations

import io
import re
import secrets
from html import escape
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from valuestory.compare import changes_of
from valuestory.errors import InputError, ValuestoryError
from valuestory.pipeline.recode import Recode
from valuestory.project import Project
from valuestory.recoding import POLARITY, decide, undo, verdict
from valuestory.render.exports import rows as export_rows
from valuestory.render.exports import write_csv
from valuestory.render.numbers import signed
from valuestory.render.report import build, render
from valuestory.stores.runs import RunStore

from . import pages
from .job import RunJob

HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; img-src data:",
           "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}
NAV = (("map", "Value story map"), ("scorecard", "Scorecard"), ("review", "Review"), ("decisions", "Decisions"),
       ("compare", "Compare"), ("search", "Search"))
VIEW_FIELDS = ("run", *pages.SLICE_FIELDS)
COMPARE_FIELDS = ("a", "b", "period", "vs", "since")
SEARCH_HITS = 20
APPLY_REFRESH_SECONDS = 1
KEPT_REPORTS = 8  # slices read, and maps and scorecards built, kept
KEPT_RUNS = 3  # runs whose artefacts are kept read (at 200,000 responses, some 500 MiB each)
EXPORTS = ("scorecard.csv", "mentions.csv", "review.csv", "decisions.csv", "search.csv", "compare.csv", "report.html")

_env = Environment(loader=PackageLoader("valuestory.workspace", "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
_env.filters["signed"] = lambda v, digits=2: "–" if v is None else signed(v, digits)
_env.filters["pct"] = lambda v: "" if v is None else f"{v:.0%}"


class Workspace:
    """The pages; `app` is the ASGI application."""

    def __init__(self, root: Path, llm: str = "offline") -> None:
        self.root, self.llm, self._project = root, llm, None
        self.token = secrets.token_urlsafe(24)
        self.flash = ""  # said once, on the next page shown
        # what a finished run gives never changes: its artefacts, its slices, its pages' data
        self._runs, self._sliced, self._reports = Kept(KEPT_RUNS), Kept(KEPT_REPORTS), Kept(KEPT_REPORTS)
        self._changes = Kept(KEPT_REPORTS)
        self.job: RunJob | None = None  # the run Apply started
        self.app = Starlette(routes=[
            Route("/", self.home), Route("/map", self.map), Route("/scorecard", self.scorecard),
            Route("/touchpoint", self.touchpoint), Route("/record", self.record), Route("/review", self.review),
            Route("/decisions", self.decisions), Route("/compare", self.compare), Route("/search", self.search),
            Route("/export/{what}", self.export),
            Route("/code", self.code, methods=["POST"]), Route("/verdict", self.verdict, methods=["POST"]),
            Route("/undo", self.undo, methods=["POST"]), Route("/apply", self.apply, methods=["POST"]),
            Route("/applying", self.applying)],
            exception_handlers={PermissionError: self.refused, ValuestoryError: self.bad_input})

    @property
    def project(self) -> Project:
        # Opened by the first request: the handlers run on the server's event loop, the one
        # thread the project's SQLite ledger may be used from.
        if self._project is None:
            self._project = Project(self.root).require()
        return self._project

    # -- reading ---------------------------------------------------------------------------

    def view_of(self, request: Request) -> dict[str, str]:
        return {f: request.query_params.get(f, "").strip() for f in VIEW_FIELDS}

    def reader(self, view: dict[str, str]):
        """The run a page reads, through its slice; a run read through a slice is kept, as it
        never changes (its scores are computed again for the slice)."""
        cut = pages.slice_from(view)
        whole = self.run(view["run"])
        if not cut:
            return whole
        return self._sliced.made((whole.run_id, cut.label),
                                 lambda: whole.sliced(cut, list(self.project.ledger.records())))

    def run(self, run_id: str = ""):
        """The run (default the latest), its artefacts read once."""
        found = pages.reader_for(self.project, run_id)
        return self._runs.made(found.run_id, lambda: found)

    def page(self, template: str, request: Request, status: int = 200, reader=None, **context) -> HTMLResponse:
        view = self.view_of(request)
        flash, self.flash = self.flash, ""
        shown = reader or _quietly(lambda: self.run(view["run"]))
        html = _env.get_template(f"{template}.html").render(
            token=self.token, nav=NAV, step=template, view=view, link=_linker(view), flash=flash,
            request_path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            project_name=self.project.config.project.name, reader=shown,
            choices=pages.choices(self.project, shown) if shown else {},
            pending=pages.pending(self.project, shown) if shown else {"count": 0}, **context)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/map", status_code=303)

    async def map(self, request: Request) -> Response:
        reader = self.reader(self.view_of(request))
        return self.page("map", request, reader=reader, report=self.report(reader))

    async def scorecard(self, request: Request) -> Response:
        reader = self.reader(self.view_of(request))
        return self.page("scorecard", request, reader=reader, report=self.report(reader))

    def report(self, reader) -> dict:
        """The report's view of a run (and slice): a finished run never changes, so it is kept."""
        return self._reports.made((reader.run_id, reader.slice.label if reader.slice else ""),
                                  lambda: build(self.project, reader, comparisons=False))

    async def touchpoint(self, request: Request) -> Response:
        reader = self.reader(self.view_of(request))
        name = request.query_params.get("name", "")
        known = sorted({t.name for t in reader.coding.touchpoints} | {m.touchpoint for m in reader.coding.mentions})
        if name not in known:
            raise InputError(f"no touchpoint {name!r} in this run", hint="Open one from the scorecard")
        page = _page_number(request)
        found, total = pages.mentions_of(self.project, reader, name, page)
        last = max(1, -(-total // pages.MENTIONS_PER_PAGE))
        if page > last:
            return RedirectResponse(_linker(self.view_of(request))("/touchpoint", name=name, page=last), status_code=303)
        score = next((s for s in reader.scores.scores if s.scope == "overall" and s.touchpoint == name), None)
        return self.page("touchpoint", request, reader=reader, name=name, known=known, score=score, mentions=found,
                         total=total, page_no=page, pages=last,
                         definition=next((t for t in reader.coding.touchpoints if t.name == name), None))

    async def record(self, request: Request) -> Response:
        reader = self.reader(self.view_of(request))
        record_id = request.query_params.get("id", "")
        record = self.project.ledger.records_by_id([record_id]).get(record_id)
        if record is None:
            raise InputError(f"no record {record_id!r} in this project", hint="Follow a quote or a search hit")
        mark = None
        start, end = request.query_params.get("start", ""), request.query_params.get("end", "")
        if start.isdigit() and end.isdigit() and int(start) < int(end) <= len(record.text):
            mark = (int(start), int(end))
        return self.page("record", request, reader=reader, **pages.record_page(reader, record, mark))

    async def review(self, request: Request) -> Response:
        reader = self.reader(self.view_of(request))
        return self.page("review", request, reader=reader, queue=pages.review_queue(self.project, reader),
                         known=sorted(t.name for t in reader.coding.touchpoints))

    async def decisions(self, request: Request) -> Response:
        reader = self.reader(self.view_of(request))
        return self.page("decisions", request, reader=reader, decisions=pages.decisions(self.project, reader))

    async def compare(self, request: Request) -> Response:
        q = {k: request.query_params.get(k, "").strip() for k in COMPARE_FIELDS}
        return self.page("compare", request, q=q, changes=self.changes(request) if any(q.values()) else None)

    def changes(self, request: Request):
        """As `valuestory diff`: two runs, two periods of one run, or before and since a date;
        kept, as finished runs never change."""
        q = {k: request.query_params.get(k, "").strip() for k in COMPARE_FIELDS}
        runs = [q["a"], q["b"]] if q["a"] or q["b"] else []
        if runs and not all(runs):
            raise InputError("choose two runs to compare", hint="A run before and a run after")
        if not runs and not (q["since"] or (q["period"] and q["vs"])):
            raise InputError("say what to compare", hint="Two runs; a period and the period to compare it with "
                                                         "(2026Q2 and 2026Q3); or a date to compare before and since")
        of = "" if runs else self.run(self.view_of(request)["run"]).run_id
        return self._changes.made((*runs, q["period"], q["vs"], q["since"], of), lambda: changes_of(
            self.project, runs, q["period"] or None, q["vs"] or None, q["since"] or None, of or None))

    async def search(self, request: Request) -> Response:
        query, kind = request.query_params.get("q", ""), request.query_params.get("kind", "")
        hits = pages.search_hits(self.project, query, kind, SEARCH_HITS) if query.strip() else None
        if len(query) > pages.MAX_QUERY_CHARS:  # not echoed back whole
            query = query[:pages.MAX_QUERY_CHARS]
        return self.page("search", request, query=query, kind=kind, hits=hits)

    async def export(self, request: Request) -> Response:
        what = request.path_params["what"]
        if what not in EXPORTS:
            raise InputError(f"no export {what!r}", hint="Exports: " + ", ".join(EXPORTS))
        view = self.view_of(request)
        if what == "report.html":
            reader = self.reader(view)
            return Response(render(self.project, "html", reader), media_type="text/html; charset=utf-8",
                            headers={**HEADERS, "Content-Disposition": f'attachment; filename="report-{reader.run_id}.html"'})
        rows = self.rows(what, request, view)
        out = io.StringIO()
        write_csv(rows, out)
        name = re.sub(r"[^\w.-]+", "-", what)
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})

    def rows(self, what: str, request: Request, view: dict[str, str]) -> list[dict]:
        """The rows of what a page shows, as the CLI's exports write them."""
        params = request.query_params
        if what == "search.csv":
            return [{k: h[k] for k in ("score", "record_id", "kind", "locator", "start", "end", "snippet")}
                    for h in pages.search_hits(self.project, params.get("q", ""), params.get("kind", ""), SEARCH_HITS)]
        if what == "compare.csv":
            c = self.changes(request)
            return [{"touchpoint": t.touchpoint, "before": t.before.value, "before_n": t.before.n, "after": t.after.value,
                     "after_n": t.after.n, "difference": t.difference.value, "low": t.difference.low,
                     "high": t.difference.high, "flagged": t.flagged, "rank_before": t.rank_before,
                     "rank_after": t.rank_after} for t in c.touchpoints]
        reader = self.reader(view)
        if what == "decisions.csv":
            return [{"number": r.number, "decision": r.describe(), "action": r.action, "status": "undone" if undone else
                     "in force", "undone_at": undone or "", f"changed_in_{reader.run_id}": changed}
                    for r, undone, changed in pages.decisions(self.project, reader)]
        if what == "review.csv":
            return [{"record_id": m.record_id, "touchpoint": m.touchpoint, "polarity": m.polarity,
                     "confidence": m.confidence, "quote": m.quote, "start": m.start, "end": m.end}
                    for m in (x["mention"] for x in pages.review_queue(self.project, reader))]
        if what == "scorecard.csv":
            return export_rows(reader, "scores", csv=True)
        name = params.get("touchpoint", "")
        return [r for r in export_rows(reader, "mentions", csv=True) if not name or r["touchpoint"] == name]

    # -- deciding --------------------------------------------------------------------------

    async def form_of(self, request: Request):
        form = await request.form(max_files=0, max_fields=50)
        if not secrets.compare_digest(str(form.get("token", "")), self.token):
            raise PermissionError("This form did not come from this workspace's own page: a cross-site post is refused, "
                                  "and nothing was changed.")
        return form

    async def code(self, request: Request) -> Response:
        """rename, merge, split (a touchpoint), reassign, reject, confirm, polarity (a mention)."""
        form = await self.form_of(request)
        action = str(form.get("action", ""))
        name = str(form.get("touchpoint", ""))
        into = " ".join(str(form.get("into", "")).split())
        if action == "rename":
            recode = Recode(action="rename", touchpoints=[name], into=into)
        elif action == "merge":
            others = [str(v) for v in form.getlist("with") if str(v) and str(v) != name]
            if not others:
                raise InputError("choose the touchpoint to merge it with")
            recode = Recode(action="merge", touchpoints=[name, *others], into=into or name)
        elif action == "split":
            words = [w.strip() for w in str(form.get("words", "")).split(",") if w.strip()]
            recode = Recode(action="split", touchpoints=[name], into=into, words=words)
        elif action in ("reassign", "reject", "confirm", "polarity"):
            reader = self.run()
            m = pages.find_mention(reader, str(form.get("record_id", "")), name, _int(form.get("start")))
            known = {t.name for t in reader.coding.touchpoints}
            fit = tuple(reader.coding.calibration[:2]) if reader.coding.calibration else None
            answer = {"reassign": f"r {into}", "reject": "n", "confirm": "y",
                      "polarity": f"p {form.get('polarity', '')}"}[action]
            if action == "polarity" and str(form.get("polarity", "")) not in POLARITY:
                raise InputError("choose the polarity: positive, neutral or negative")
            recode = verdict(m, answer, known, fit, reader.coding.scale)
        else:
            raise InputError(f"unknown action {action!r}")
        made = decide(self.project, recode)
        self.flash = f"Kept: {made.number}. {made.describe()}. The next run applies it: press Apply."
        return RedirectResponse(_back(form), status_code=303)

    async def verdict(self, request: Request) -> Response:
        """A review verdict on the run's mention: y, n, r NAME, p +/0/-."""
        form = await self.form_of(request)
        reader = self.run()
        m = pages.find_mention(reader, str(form.get("record_id", "")), str(form.get("touchpoint", "")),
                               _int(form.get("start")))
        answer = str(form.get("answer", ""))
        if answer == "r":
            answer = f"r {' '.join(str(form.get('into', '')).split())}"
        fit = tuple(reader.coding.calibration[:2]) if reader.coding.calibration else None
        recode = verdict(m, answer, {t.name for t in reader.coding.touchpoints}, fit, reader.coding.scale)
        if recode is not None:
            made = decide(self.project, recode)
            self.flash = f"Kept: {made.number}. {made.describe()}."
        return RedirectResponse(_back(form), status_code=303)

    async def undo(self, request: Request) -> Response:
        form = await self.form_of(request)
        done = undo(self.project, _int(form.get("number")) if form.get("number") else None)
        self.flash = f"Undone: {done.number}. {done.describe()}. The next run applies it: press Apply."
        return RedirectResponse(_back(form), status_code=303)

    async def apply(self, request: Request) -> Response:
        """Run again, as the latest run was made (its engine and codebook), to apply the
        decisions: in a thread of its own, while a page follows its progress."""
        form = await self.form_of(request)
        if self.job is None or not self.job.running:
            latest = RunStore(self.project.ledger).latest()
            codebook = Path(latest.info.codebook) if latest.info.codebook else None
            if codebook is not None and not codebook.exists():
                raise InputError(f"the latest run's codebook {codebook.name} is no longer there",
                                 hint="Run `valuestory run --codebook FILE` from the command line")
            self.job = RunJob(self.root, self.llm, codebook, _back(form, drop_run=True)).start()
        return RedirectResponse("/applying", status_code=303)

    async def applying(self, request: Request) -> Response:
        """The run's progress, the page reloading itself until it ends; then back."""
        job = self.job
        if job is None:
            return RedirectResponse("/decisions", status_code=303)
        if job.running:
            return self.page("applying", request, job=job, refresh=APPLY_REFRESH_SECONDS)
        self.job = None
        if job.error:
            raise ValuestoryError(f"The run to apply the decisions did not finish: {job.error}")
        self.flash = f"Run {job.run_id} made in {job.seconds:.1f} s: every decision is applied."
        return RedirectResponse(job.back, status_code=303)

    # -- refusing --------------------------------------------------------------------------

    async def refused(self, request: Request, exc: Exception) -> Response:
        return HTMLResponse(f"<!doctype html><title>Refused</title><p>{escape(str(exc))}</p>", status_code=403,
                            headers=HEADERS)

    async def bad_input(self, request: Request, exc: ValuestoryError) -> Response:
        return self.page("error", request, status=404 if isinstance(exc, pages.UnknownRun) else 400, message=str(exc))


class Kept(dict):
    """At most `size` entries, the oldest let go first."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def made(self, key, make):
        if key not in self:
            if len(self) >= self.size:
                self.pop(next(iter(self)))
            self[key] = make()
        return self[key]


def _quietly(read):
    try:
        return read()
    except ValuestoryError:
        return None


def _linker(view: dict[str, str]):
    """`link(path, **params)`: a path with the page's run and slice carried over."""
    def link(path: str, **params) -> Markup:
        query = {**{k: v for k, v in view.items() if v}, **{k: v for k, v in params.items() if v not in (None, "")}}
        return Markup(escape(path + ("?" + urlencode(query) if query else "")))
    return link


def _back(form, drop_run: bool = False) -> str:
    """Where a form returns to: a path of this app only (never another site's)."""
    back = str(form.get("back", "/"))
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        return "/"
    return re.sub(r"([?&])run=[^&]*&?", r"\1", back).rstrip("?&") if drop_run else back


def _int(value) -> int:
    text = str(value or "")
    if not text.isdigit():
        raise InputError(f"{text!r} is not a number", hint="Reload the page and try again")
    return int(text)


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return max(1, int(text)) if text.isdigit() and len(text) < 10 else 1


def create_app(root: Path, llm: str = "offline") -> Starlette:
    return Workspace(root, llm).app


def serve(root: Path, port: int = 8766, open_browser: bool = True, llm: str = "offline") -> None:
    """Run the workspace on 127.0.0.1 only, until interrupted."""
    import threading
    import webbrowser

    import uvicorn
    url = f"http://127.0.0.1:{port}/"
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(create_app(root, llm), host="127.0.0.1", port=port, log_level="warning")
