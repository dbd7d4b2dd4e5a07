"""The guided audit as a local web app: server-rendered pages, one per step of seed 004, that
work without JavaScript. Bound to 127.0.0.1 by `serve`; every form carries a token made when
the app starts and a post without it (a cross-site form) is refused; nothing is served from
disk but the pages themselves. Each step is saved as it is taken (`session.Audit`)."""

from __future__ import annotations

import secrets
from html import escape
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from valuestory.errors import ValuestoryError
from valuestory.render.numbers import signed

from .businesses import TYPES
from .session import MAX_UPLOAD_BYTES, Audit
from .state import Rating

CHANNELS = ("walk-in", "phone", "website", "email", "social media", "delivery apps", "marketplace")
SIZES = ("just me", "2-5 people", "6-20 people", "more than 20")
UPLOAD_CHUNK = 1024 * 1024
NAV = (("business", "1. Your business"), ("words", "2. Your customers' words"), ("map", "3. Your map"),
       ("scores", "4. Scores"), ("fix", "5. What to fix"), ("ideas", "6. Ideas to try"), ("print", "7. Print"))

HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; img-src data:",
           "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}

_env = Environment(loader=PackageLoader("valuestory.audit", "templates"), autoescape=select_autoescape(["html"]))
_env.globals["signed"] = lambda v: "–" if v is None else signed(v)  # the report's: never -0.00


class AuditApp:
    """The pages, one handler per step; `app` is the ASGI application."""

    def __init__(self, root: Path, llm: str = "offline") -> None:
        self.root, self.llm, self._audit = root, llm, None
        self.token = secrets.token_urlsafe(24)
        get_post = ["GET", "POST"]
        self.app = Starlette(routes=[
            Route("/", self.home), Route("/business", self.business, methods=get_post),
            Route("/touchpoints", self.touchpoints, methods=get_post), Route("/words", self.words, methods=get_post),
            Route("/map", self.view("map")), Route("/scores", self.scores, methods=get_post),
            Route("/fix", self.view("fix")), Route("/ideas", self.view("ideas")), Route("/print", self.view("print"))],
            exception_handlers={PermissionError: self.refused})

    @property
    def audit(self) -> Audit:
        # Opened by the first request: the handlers run on the server's event loop, the one
        # thread the project's SQLite ledger may be used from.
        if self._audit is None:
            self._audit = Audit(self.root)
        return self._audit

    def page(self, name: str, status: int = 200, **context) -> HTMLResponse:
        html = _env.get_template(f"{name}.html").render(
            token=self.token, nav=NAV, step=name, state=self.audit.state, types=TYPES, **context)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    async def form_of(self, request: Request):
        form = await request.form(max_files=20, max_fields=2000)
        if not secrets.compare_digest(str(form.get("token", "")), self.token):
            raise PermissionError("This form did not come from this audit's own page: a cross-site post is refused.")
        return form

    def findings(self):
        state = self.audit.state
        return self.audit.analyse(self.llm) if state.touchpoints and state.uploads else None

    async def home(self, request: Request) -> Response:
        nxt = next((s for s, _ in NAV if s not in self.audit.state.done), "fix")
        return RedirectResponse(f"/{nxt}", status_code=303)

    async def business(self, request: Request) -> Response:
        if request.method == "POST":
            form = await self.form_of(request)
            kind = str(form.get("business_type", ""))
            if kind not in TYPES:
                return self.page("business", 400, error="Choose the kind of business you run.", channels=CHANNELS,
                                 sizes=SIZES)
            self.audit.choose(kind, [c for c in form.getlist("channels") if c in CHANNELS], str(form.get("size", "")))
            return RedirectResponse("/touchpoints", status_code=303)
        return self.page("business", channels=CHANNELS, sizes=SIZES)

    async def touchpoints(self, request: Request) -> Response:
        if not self.audit.state.touchpoints:
            return RedirectResponse("/business", status_code=303)
        if request.method == "POST":
            form = await self.form_of(request)
            renames = {t.name: str(form.get(f"name-{i}", t.name)) for i, t in enumerate(self.audit.state.touchpoints)}
            added = [line for line in str(form.get("added", "")).splitlines() if line.strip()]
            self.audit.edit(set(form.getlist("keep")), renames, added)
            return RedirectResponse("/words", status_code=303)
        return self.page("touchpoints")

    async def words(self, request: Request) -> Response:
        reports, error = [], ""
        if request.method == "POST":
            form = await self.form_of(request)
            if form.get("skip"):
                self.audit.mark("words")
                return RedirectResponse("/scores", status_code=303)
            files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
            try:
                reports = await _take(self.audit, files) if files else []
                error = "" if files else "Choose a file to upload, or skip this step."
            except ValuestoryError as exc:
                error = str(exc)
            error = error or "; ".join(r.message for r in reports if r.status == "failed")
        return self.page("words", 400 if error else 200, reports=reports, error=error,
                         findings=None if error else self.findings())

    async def scores(self, request: Request) -> Response:
        if request.method == "POST":
            form = await self.form_of(request)
            for i, t in enumerate(self.audit.state.touchpoints):
                t.rating = Rating(**{k: _scale(form.get(f"{k}-{i}")) for k in Rating.model_fields})
                t.view = _scale(form.get(f"view-{i}"))
            self.audit.mark("scores")
            return RedirectResponse("/fix", status_code=303)
        return self.page("scores", findings=self.findings())

    def view(self, name: str):
        async def handler(request: Request) -> Response:
            found = self.findings()
            if found is not None:
                self.audit.mark(name)  # seen: a step with findings is done
            return self.page(name, findings=found)
        return handler

    async def refused(self, request: Request, exc: Exception) -> Response:
        return HTMLResponse(f"<!doctype html><title>Refused</title><p>{escape(str(exc))}</p>", status_code=403,
                            headers=HEADERS)


def create_app(root: Path, llm: str = "offline") -> Starlette:
    return AuditApp(root, llm).app


def _scale(value) -> int | None:
    return int(value) if str(value) in {"1", "2", "3", "4", "5"} else None


async def _take(audit: Audit, files: list[UploadFile]) -> list:
    """Each upload read with its size counted (over the limit it is refused before it is
    all read), then taken whole or not at all."""
    reports = []
    for f in files:
        content, size = [], 0
        while chunk := await f.read(UPLOAD_CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise ValuestoryError(f"{Path(f.filename).name} is over the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB an "
                                      "audit takes: export the last few months only, or split the file")
            content.append(chunk)
        reports.append(audit.upload(f.filename, b"".join(content)))
    return reports


def serve(root: Path, port: int = 8765, open_browser: bool = True, llm: str = "offline") -> None:
    """Run the audit on 127.0.0.1 only, until interrupted."""
    import threading
    import webbrowser

    import uvicorn
    url = f"http://127.0.0.1:{port}/"
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(create_app(root, llm), host="127.0.0.1", port=port, log_level="warning")
