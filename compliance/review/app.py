"""The review server: the latest HTML report, read-only, plus an API for reviewers' decisions.

    GET    /...                   the report's files (report_dir/latest), HTML pages with the
                                  review script and style added
    GET    /_review/review.js     the controls (publish / hold / accept a finding)
    GET    /api/decisions         every decision, with where it stands (current, reopened...)
    POST   /api/decisions         record one (JSON)
    DELETE /api/decisions/{id}    withdraw one

Reviewers' text is anyone's text and the server may be reached from other pages in the same
browser, so every request passes `_guard`: the Host must be this server (a DNS-rebinding page
names its own), the token when there is one (header, or the cookie that `?token=` sets), and a
request that changes anything must come from a page of this server (Origin / Referer /
Sec-Fetch-Site) with a JSON body, which no cross-site form can send. Served pages carry a
Content-Security-Policy allowing only their own inline code (by hash) and this server's files.
"""
from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import json
import os
import re
import threading
from dataclasses import dataclass, replace
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from compliance.errors import ComplianceError
from compliance.review.waivers import AcceptedFinding, append_waiver
from compliance.state.decisions import MAX_REASON, STATUSES, assess, now_iso
from compliance.state.store import DecisionRow, StateStore

_STATIC = Path(__file__).parent / "static"
COOKIE = "compliance_review"
MAX_BODY = 64 * 1024
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json", ".sarif": "application/json",
          ".xml": "application/xml", ".txt": "text/plain; charset=utf-8", ".css": "text/css", ".js": "text/javascript",
          ".svg": "image/svg+xml", ".png": "image/png"}
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_META_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">\s*', re.IGNORECASE)
_META_REFERRER = re.compile(r'<meta name="referrer" content="[^"]*">\s*', re.IGNORECASE)


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ReviewSettings:
    report_dir: Path
    state: Path
    waivers: Path  # the review waivers file (config.review_waivers_path)
    reviewer: str
    token: str | None = None
    host: str = "127.0.0.1"


def latest_run(report_dir: Path) -> Path:
    """The folder of the latest report: `latest`'s target, or the folder itself when it holds
    a report (a copy of one run)."""
    latest = report_dir / "latest"
    if latest.is_dir():
        return Path(os.path.realpath(latest))
    if (report_dir / "index.html").is_file():
        return Path(os.path.realpath(report_dir))
    raise ComplianceError("no HTML report here (write one with `compliance scan --format html`)", str(report_dir))


def _inside(root: Path, relative: str) -> Path | None:
    """The file `relative` names under `root`, or None: `..`, absolute names, backslashes, NUL
    and links leading out of the report are refused alike."""
    if not relative or relative.endswith("/"):
        relative += "index.html"
    if "\x00" in relative or "\\" in relative or relative.startswith("/") or ".." in relative.split("/"):
        return None
    target = Path(os.path.realpath(root / relative))
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target


def page_csp(meta: str) -> str:
    """The page's own policy (its inline code by hash) with this server's script, style and API
    allowed, and framing refused."""
    directives = {}
    for part in meta.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value.strip()
    directives.setdefault("default-src", "'none'")
    for name in ("script-src", "style-src", "connect-src"):
        values = [v for v in directives.get(name, "").split() if v != "'none'"]
        directives[name] = " ".join(["'self'", *values])
    directives["frame-ancestors"] = "'none'"
    directives.setdefault("base-uri", "'none'")
    directives.setdefault("form-action", "'none'")
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


def _review_page(html: str) -> tuple[str, str]:
    """The page with the review controls added, and the policy it is served under."""
    found = _META_CSP.search(html)
    csp = page_csp(unescape(found.group(1)) if found else "default-src 'none'")
    html = _META_CSP.sub("", html, count=1)
    # same-origin, not no-referrer: with no-referrer the browser sends `Origin: null` on the
    # page's own POSTs, which the cross-site check must refuse
    html = _META_REFERRER.sub("", html, count=1)
    tags = ('<meta name="referrer" content="same-origin">\n<link rel="stylesheet" href="/_review/review.css">\n'
            '<script src="/_review/review.js" defer></script>\n')
    at = html.lower().find("</head>")
    html = html[:at] + tags + html[at:] if at >= 0 else tags + html
    return html, csp


class _Guard:
    """ASGI middleware: every request is checked before it reaches a route (see the module's docstring)."""

    def __init__(self, app, settings: ReviewSettings):
        self.app = app
        self.settings = settings
        self.any_host = not is_loopback(settings.host)  # reachable by other names: the token protects it

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is None:
            return await self.app(scope, receive, _with_headers(send))
        return await refusal(scope, receive, _with_headers(send))

    def _refusal(self, request: Request) -> Response | None:
        host = request.headers.get("host", "")
        hostname = urlsplit("//" + host).hostname or ""
        if not self.any_host and not is_loopback(hostname):
            return PlainTextResponse("refused: this server answers only to its loopback address\n", 403)
        token = self.settings.token
        if token is not None:
            given = request.query_params.get("token")
            if given is not None and request.method == "GET" and hmac.compare_digest(given.encode(), token.encode()):
                # the token leaves the address bar for a cookie scripts cannot read or other sites send
                query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
                response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), 303)
                response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
                return response
            header = request.headers.get("authorization", "")
            offered = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
            if not hmac.compare_digest(offered.encode(), token.encode()):
                return PlainTextResponse("token required: open the address `compliance review` printed\n", 401)
        if request.method not in _SAFE_METHODS:
            if not _same_origin(request):
                return JSONResponse({"error": "cross-site request refused"}, 403)
            if request.method == "POST" and request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                return JSONResponse({"error": "send JSON (Content-Type: application/json)"}, 415)
        return None


def _same_origin(request: Request) -> bool:
    """A state-changing request must come from this server's pages. Browsers say where a request
    comes from (Sec-Fetch-Site, Origin, Referer); a client that says nothing (curl with the
    token) is not a browser page, and the JSON body it must send keeps forms out."""
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == own
    referer = request.headers.get("referer")
    return referer is None or referer == own or referer.startswith(own + "/")


def _with_headers(send):
    async def sending(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            names = {name.lower() for name, _ in headers}
            for name, value in ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                                (b"referrer-policy", b"same-origin"), (b"cache-control", b"no-store"),
                                (b"cross-origin-resource-policy", b"same-origin")):
                if name not in names:
                    headers.append((name, value))
            if b"content-security-policy" not in names:
                headers.append((b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"))
            message = {**message, "headers": headers}
        await send(message)
    return sending


class _Decisions:
    """The API's work, on the state database (opened per request: SQLite is cheap to open, and
    a scan may replace its rows between two requests)."""

    def __init__(self, settings: ReviewSettings):
        self.settings = settings
        self.lock = threading.Lock()

    def _store(self) -> StateStore:
        return StateStore.open(self.settings.state)

    def listing(self) -> dict[str, Any]:
        with self.lock:
            store = self._store()
            try:
                views = assess(store.decisions(), store.document_hashes())
            finally:
                store.close()
        return {"decisions": [v.as_dict() for v in views], "reviewer": self.settings.reviewer}

    def record(self, body: Any) -> tuple[int, dict[str, Any]]:
        problem = _invalid(body)
        if problem:
            return 422, {"error": problem}
        status, doc_path = body["status"], body["doc_path"]
        fingerprint = body.get("fingerprint") or None
        reason = (body.get("reason") or "").strip()
        expires = body.get("expires") or None
        with self.lock:
            store = self._store()
            try:
                known = _known_documents(self.settings.report_dir)
                hashes = store.document_hashes()
                if doc_path not in known and doc_path not in hashes:
                    return 422, {"error": "no such document in the report"}
                rule = None
                if fingerprint is not None:
                    rule = _open_finding_rule(store, doc_path, fingerprint)
                    if rule is None:
                        return 422, {"error": "no such open finding in the state of the last scan"}
                    standing = [v for v in assess(store.decisions(), hashes)
                                if v.row.fingerprint == fingerprint and v.row.doc_path == doc_path and v.state == "current"]
                    if standing and standing[-1].row.status == "accept":  # a second waiver would only repeat the first
                        return 409, {"error": "this finding is already accepted; withdraw that decision first"}
                row = DecisionRow(0, doc_path, hashes.get(doc_path), fingerprint, rule, status, reason, expires,
                                  self.settings.reviewer, now_iso())
                if status == "accept":  # the waiver first: a decision without it would not be honoured
                    append_waiver(self.settings.waivers, AcceptedFinding(
                        doc_path, rule, fingerprint, reason, self.settings.reviewer, dt.date.today(),
                        dt.date.fromisoformat(expires) if expires else None, hashes.get(doc_path)))
                row = replace(row, id=store.add_decision(row))
                view = next(v for v in assess(store.decisions(), hashes) if v.row.id == row.id)
            finally:
                store.close()
        return 201, view.as_dict()

    def withdraw(self, decision_id: int) -> tuple[int, dict[str, Any]]:
        with self.lock:
            store = self._store()
            try:
                row = next((r for r in store.decisions() if r.id == decision_id), None)
                if row is None or not store.remove_decision(decision_id):
                    return 404, {"error": "no such decision"}
            finally:
                store.close()
        answer: dict[str, Any] = {"deleted": decision_id}
        if row.status == "accept":  # the file is the user's too: it is not rewritten
            answer["note"] = f"the waiver written for it stays in {self.settings.waivers}; remove it there"
        return 200, answer


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "expected a JSON object"
    if body.get("status") not in STATUSES:
        return f"status must be one of {', '.join(STATUSES)}"
    if not isinstance(body.get("doc_path"), str) or not body["doc_path"]:
        return "doc_path must name a document of the report"
    for key in ("fingerprint", "reason", "expires"):
        if body.get(key) is not None and not isinstance(body[key], str):
            return f"{key} must be text"
    reason = (body.get("reason") or "").strip()
    if len(reason) > MAX_REASON:
        return f"reason is longer than {MAX_REASON} characters"
    if body["status"] == "accept":
        if not body.get("fingerprint"):
            return "accepting needs the finding's fingerprint"
        if not reason:
            return "accepting a finding needs a reason"
    elif body.get("fingerprint"):
        return "publish and hold are decisions on the whole document (no fingerprint)"
    if body.get("expires"):
        try:
            if dt.date.fromisoformat(body["expires"]) < dt.date.today():
                return "expires is in the past"
        except ValueError:
            return "expires must be a date (YYYY-MM-DD)"
    return None


def _known_documents(report_dir: Path) -> set[str]:
    """The documents of the served report (its report.json), which decisions may name."""
    try:
        data = json.loads((latest_run(report_dir) / "report.json").read_text(encoding="utf-8"))
        return {d["path"] for d in data.get("documents", []) if isinstance(d, dict) and isinstance(d.get("path"), str)}
    except (OSError, ValueError, ComplianceError):
        return set()


def _open_finding_rule(store: StateStore, doc_path: str, fingerprint: str) -> str | None:
    """The rule of the open finding `fingerprint` of `doc_path`: only a finding the last scan
    reported can be accepted, and its rule comes from the state, not from the browser."""
    locations = {doc_path} | store.locations(doc_path)
    return next((f.rule for f in store.open_findings() if f.fingerprint == fingerprint and f.location in locations), None)


def create_app(settings: ReviewSettings) -> Starlette:
    decisions = _Decisions(settings)

    def api_list(request: Request) -> Response:
        return JSONResponse(decisions.listing())

    async def api_create(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return JSONResponse({"error": "request too large"}, 413)
        try:
            body = json.loads(raw)
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, 400)
        code, answer = await _in_thread(decisions.record, body)
        return JSONResponse(answer, code)

    async def api_delete(request: Request) -> Response:
        code, answer = await _in_thread(decisions.withdraw, request.path_params["id"])
        return JSONResponse(answer, code)

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ("review.js", "review.css"):
            return PlainTextResponse("not found\n", 404)
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        return Response((_STATIC / name).read_bytes(), media_type=kind)

    def report_file(request: Request) -> Response:
        try:
            root = latest_run(settings.report_dir)
        except ComplianceError as error:
            return PlainTextResponse(f"{error}\n", 404)
        target = _inside(root, request.path_params.get("path", ""))
        if target is None:
            return PlainTextResponse("not found\n", 404)
        kind = _TYPES.get(target.suffix.lower(), "application/octet-stream")
        if target.suffix.lower() != ".html":
            return Response(target.read_bytes(), media_type=kind)
        html, csp = _review_page(target.read_text(encoding="utf-8", errors="replace"))
        return Response(html, media_type=kind, headers={"content-security-policy": csp})

    routes = [
        Route("/api/decisions", api_list, methods=["GET"]),
        Route("/api/decisions", api_create, methods=["POST"]),
        Route("/api/decisions/{id:int}", api_delete, methods=["DELETE"]),
        Route("/_review/{name}", asset, methods=["GET"]),
        Route("/{path:path}", report_file, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={ComplianceError: _one_line})
    app.add_middleware(_Guard, settings=settings)
    return app


async def _in_thread(function, *args):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args)


async def _one_line(request: Request, error: ComplianceError) -> Response:
    return JSONResponse({"error": str(error)}, 500)
