"""The served app: FastAPI with the gradio UI mounted at /, the REST API for integrators beside it,
health and metrics, admin sessions, downloads, and the checks every request passes.

Every request: the client's address (forwarded headers believed only from the configured
proxies); a request ID and one JSON log line (share codes and download tokens masked); the Host
header checked; when the app is exposed beyond loopback (or a token is set) an access token
required; another site's pages may neither change anything nor read an answer (no CORS for
them); the body capped while it is read, chunked or not, before anything parses it; NaN and
lone surrogates refused; gradio's upload route only for an admin session and its file route
never for a URL; security headers (CSP with no remote images, no framing) on every response.
``serve`` refuses a non-loopback bind without an access token.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import os
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi import Request  # at module level: with postponed annotations FastAPI resolves it from here

from .config import LOOPBACK_HOSTS, Config, ConfigError
from .downloads import PREFIX as DOWNLOAD_PREFIX
from .downloads import Downloads
from .limits import LIMITS, Limits, RateLimited, RateLimiter
from .live import LiveServices
from .observe import Metrics, log, new_request_id, request_id
from .proxies import client_address, client_of
from .records import RecordError, Records, RecordsUnavailable
from .scoring import percentile

ADMIN_COOKIE = "tics_admin"
ACCESS_COOKIE = "tics_access"
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
OPEN_PATHS = frozenset({"/healthz", "/login"})  # reachable without the access token (the proxy's health check; the login form)
# The routes metrics are counted by: a fixed set, so that no client can add series with new paths.
ROUTES = frozenset({"/healthz", "/metrics", "/login", "/admin/login", "/admin/logout", "/api/v1/ask", "/api/v1/triage", "/api/docs",
                    "/api/openapi.json", "/internal/stats"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CODE_LIKE = re.compile(r"(?<![0-9A-Za-z])[2-9A-HJ-NP-Z]{8}(?![0-9A-Za-z])")  # a share code in a path is masked in logs
_URL_LIKE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|[/\\]{2})")


class Rejected(ValueError):
    """A JSON body with what JSON allows but no client may send here (NaN, infinities, lone surrogates)."""


def route_label(path: str) -> str:
    """The route a path belongs to, from a fixed set (a metrics label)."""
    if path in ROUTES:
        return path
    if path.startswith(DOWNLOAD_PREFIX):
        return DOWNLOAD_PREFIX + "{token}"
    for prefix in ("/api/", "/admin/", "/gradio_api/"):
        if path.startswith(prefix):
            return prefix + "other"
    return "/"


def logged_path(path: str) -> str:
    """A path as the request log keeps it: download tokens and share codes masked."""
    if path.startswith(DOWNLOAD_PREFIX):
        return DOWNLOAD_PREFIX + "…"
    return _CODE_LIKE.sub("********", path[:120])


def body_limit(path: str, limits: Limits) -> int:
    if path.startswith("/api/"):
        return limits.request_bytes
    if path.startswith(("/admin/", "/login")):
        return limits.form_request_bytes
    if path.rstrip("/").endswith("/upload") and "gradio_api" in path:
        return limits.upload_bytes
    return limits.page_request_bytes


def check_json(body: bytes) -> None:
    """Raise Rejected for NaN, infinities or a lone surrogate; a body that is not JSON is the route's to refuse."""
    def constant(name: str):
        raise Rejected(f"JSON に {name} は使えません。数値は有限の値で送ってください。")

    try:
        data = json.loads(body, parse_constant=constant)
    except Rejected:
        raise
    except (ValueError, RecursionError):
        return
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise Rejected("文字列に対になっていないサロゲート（壊れた文字）があります。文字を確かめて送り直してください。") from None
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _own_origin(origin: str, host: str) -> bool:
    """An Origin header is this app's when it names the host the request was sent to."""
    if not origin or origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == host.lower()


@dataclass
class AppContext:
    """What the routes and the UI share. The live services switch index versions by themselves."""

    cfg: Config
    live: LiveServices
    records: Records | None
    records_error: str | None
    downloads: Downloads
    limiter: RateLimiter
    metrics: Metrics
    limits: Limits = LIMITS
    started_at: float = 0.0
    answer_ms: deque = field(default_factory=lambda: deque(maxlen=5000))  # server time per answer, for the load report

    def record_answer_time(self, seconds: float) -> None:
        self.metrics.answer_seconds.observe(seconds)
        self.answer_ms.append(seconds * 1000)

    def server_stats(self) -> dict:
        """Server-side time per answer (ms) over the recent answers: p50 and p95 (the load test reads it)."""
        values = list(self.answer_ms)
        return {"answers": len(values), "p50_ms": round(percentile(values, 50), 1), "p95_ms": round(percentile(values, 95), 1)}

    @classmethod
    def open(cls, cfg: Config, notify=print) -> "AppContext":
        records, error = None, None
        try:
            records = Records(cfg.records_url, cfg.records_key or None)
            if cfg.server.retention_days:
                records.purge_expired(cfg.server.retention_days)
        except RecordsUnavailable as exc:
            error = str(exc)
            notify(f"記録を使えません: {exc}")
        except RecordError as exc:
            raise ConfigError(str(exc)) from exc
        from dataclasses import replace

        limits = replace(LIMITS, asks_per_minute=cfg.server.asks_per_minute)
        _remove_old_exports(cfg)
        return cls(cfg, LiveServices(cfg, notify), records, error, Downloads(limits.export_age_s), RateLimiter(), Metrics(), limits, time.time())

    def require_records(self) -> Records:
        if self.records is None:
            raise RecordsUnavailable(self.records_error or "記録を使えません。")
        return self.records

    def withdraw_record(self, code: str) -> None:
        """A record was deleted: its download links go with it."""
        self.downloads.withdraw(code=code)

    def is_admin(self, token: str | None) -> bool:
        if not self.cfg.server.admin_password or self.records is None:
            return False
        try:
            return self.records.admin_session_valid(token)
        except Exception:
            return False

    def housekeeping(self) -> None:
        """Every ten minutes: expired download links, and records past the retention period."""

        def run() -> None:
            while True:
                time.sleep(600)
                try:
                    self.downloads.sweep()
                    if self.records is not None and self.cfg.server.retention_days:
                        self.records.purge_expired(self.cfg.server.retention_days)
                except Exception as exc:  # housekeeping must never stop the app
                    log("housekeeping_failed", "warning", error=type(exc).__name__)

        threading.Thread(target=run, name="housekeeping", daemon=True).start()


# -- the checks every request passes (a plain ASGI middleware: gradio streams its responses) ------------
def _host_allowed(host: str, cfg: Config) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.endswith("]") or "]:" in host else host
    name = name.strip("[]").lower()
    allowed = {h.lower() for h in (*LOOPBACK_HOSTS, *cfg.server.allowed_hosts)}
    if cfg.server.exposed and cfg.server.host not in ("0.0.0.0", "::"):
        allowed.add(cfg.server.host.lower())
    return name in allowed or "*" in cfg.server.allowed_hosts


def _cookies(headers: dict[bytes, bytes]) -> dict[str, str]:
    out = {}
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


class Guard:
    def __init__(self, app, ctx: AppContext):
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        cfg = self.ctx.cfg
        headers = dict(scope.get("headers") or [])
        scope = _with_client(scope, headers, cfg)
        rid = new_request_id(headers.get(b"x-request-id", b"").decode("latin-1"))
        token = request_id.set(rid)
        path = scope.get("path", "")
        method = scope.get("method", "GET")
        started = time.perf_counter()
        status_box = {"status": 0}
        host = headers.get(b"host", b"").decode("latin-1")
        origin = headers.get(b"origin", b"").decode("latin-1")
        foreign = bool(origin) and not _own_origin(origin, host)
        unread = {"more": method in ("POST", "PUT", "PATCH")}  # the body still to come from the client

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
                kept = [(k, v) for k, v in message.get("headers", []) if not (foreign and k.lower().startswith(b"access-control-"))]
                message["headers"] = kept + [(b"x-request-id", rid.encode())] + SECURITY_HEADERS
            await send(message)

        async def deny(status: int, text: str, location: str | None = None):
            drained = 0
            while unread["more"] and drained <= self.ctx.limits.drain_bytes:  # read what the client sends (and drop it), so it gets the answer, not a reset
                message = await receive()
                drained += len(message.get("body", b""))
                unread["more"] = message.get("more_body", False) and message["type"] == "http.request"
            key = "error" if path.startswith("/api/") else "detail"
            body = json.dumps({key: text}, ensure_ascii=False).encode()
            hdrs = [(b"content-type", b"application/json; charset=utf-8")]
            if location:
                hdrs.append((b"location", location.encode()))
            await send_with_headers({"type": "http.response.start", "status": status, "headers": hdrs})
            await send({"type": "http.response.body", "body": body})

        try:
            if scope["type"] == "websocket":
                if foreign or not _host_allowed(host, cfg):
                    return await send({"type": "websocket.close", "code": 1008})
                return await self.app(scope, receive, send)
            if not _host_allowed(host, cfg):
                return await deny(400, "Host ヘッダーが許可されていません（ASSISTANT_ALLOWED_HOSTS を確認してください）。")
            cookies = _cookies(headers)
            needs_token = bool(cfg.server.access_token) and path not in OPEN_PATHS
            if needs_token and not _token_ok(headers, cookies, cfg.server.access_token):
                wants_html = b"text/html" in headers.get(b"accept", b"")
                if wants_html and method == "GET":
                    return await deny(303, "ログインが必要です。", "/login")
                return await deny(401, "アクセス用のトークンが必要です（Authorization: Bearer または /login）。")
            cross_site = headers.get(b"sec-fetch-site", b"") == b"cross-site"
            if (foreign or cross_site) and method not in ("GET", "HEAD"):
                return await deny(403, "ほかのサイトのページからの操作は受け付けません。このアプリの画面から操作してください。")
            if path.startswith("/gradio_api/file=") and _URL_LIKE.match(path[len("/gradio_api/file="):]):
                return await deny(404, "このアプリはほかのサーバーのファイルを取り寄せません。")
            if method == "POST" and path.rstrip("/").endswith("/upload") and "gradio_api" in path:
                if not self.ctx.is_admin(cookies.get(ADMIN_COOKIE)):
                    return await deny(403, "ファイルのアップロードは、管理ページでログインしてから行えます。")
            if method in ("POST", "PUT", "PATCH"):
                limit = body_limit(path, self.ctx.limits)
                too_big = f"リクエストが大きすぎます（上限 {limit:,} バイト）。内容を分けるか減らしてから送ってください。"
                declared = headers.get(b"content-length", b"").decode("latin-1").strip()
                if declared.isdigit() and int(declared) > limit:
                    if int(declared) > self.ctx.limits.drain_bytes:
                        unread["more"] = False  # far too big to read even to drop it: answer at once and close
                    return await deny(413, too_big)
                body = bytearray()
                while unread["more"]:  # read (and count) the whole body before any route parses it: chunked bodies too
                    message = await receive()
                    if message["type"] != "http.request":
                        return
                    body += message.get("body", b"")
                    unread["more"] = message.get("more_body", False)
                    if len(body) > limit:
                        return await deny(413, too_big)
                if b"json" in headers.get(b"content-type", b""):
                    try:
                        check_json(bytes(body))
                    except Rejected as exc:
                        return await deny(400, str(exc))
                receive = _replay(bytes(body), receive)
            try:
                return await self.app(scope, receive, send_with_headers)
            except Exception as exc:  # one JSON log line, not a traceback across many lines; the client gets a message
                self.ctx.metrics.errors.labels("unhandled").inc()
                log("unhandled_error", "error", error=type(exc).__name__, route=route_label(path))
                if not status_box["status"]:
                    return await deny(500, f"サーバーでエラーが起きました（{type(exc).__name__}）。もう一度お試しください。")
        finally:
            if scope["type"] == "http":
                label = method if method in METHODS else "OTHER"
                self.ctx.metrics.requests.labels(label, route_label(path), str(status_box["status"])).inc()
                if not path.startswith(("/gradio_api/heartbeat", "/static", "/assets")):
                    log("request", method=label, path=logged_path(path), status=status_box["status"],
                        ms=round((time.perf_counter() - started) * 1000, 1))
            request_id.reset(token)


def _replay(body: bytes, receive):
    """A receive that gives the body already read, then whatever the client sends next (a disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_client(scope, headers: dict[bytes, bytes], cfg: Config):
    """The scope with the client's address (and scheme) as the trusted proxies say, or as the peer is."""
    peer = (scope.get("client") or (None, 0))[0]
    trusted = cfg.server.trusted_proxies
    address = client_address(peer, headers.get(b"x-forwarded-for", b"").decode("latin-1"), trusted)
    scope = dict(scope, client=(address, (scope.get("client") or (None, 0))[1] or 0))
    proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").strip().lower()
    if trusted.trusts(peer) and proto in ("http", "https") and scope["type"] == "http":
        scope["scheme"] = proto
    return scope


def access_cookie_value(token: str) -> str:
    """What the access cookie holds: a keyed digest of the token, so a stolen cookie file does not give the token."""
    return hmac.new(token.encode(), b"tics-access-cookie", hashlib.sha256).hexdigest()


def _token_ok(headers: dict[bytes, bytes], cookies: dict[str, str], token: str) -> bool:
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        given, expected = auth[7:].strip(), token
    else:
        given, expected = cookies.get(ACCESS_COOKIE, ""), access_cookie_value(token)
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def login_throttled(ctx: AppContext, records: Records | None, actor: str, kind: str) -> str | None:
    """Why a login may not be tried now (too many failures from this address, or from everyone), or None."""
    limits = ctx.limits
    window = limits.admin_failure_window_s
    minutes = int(window // 60)
    try:
        if records is not None:  # admin logins: counted in the records, so every replica sees the same failures
            since = time.time() - window
            if records.login_failures_since(actor, since) >= limits.admin_failures:
                return f"ログインの失敗が続いたため、{minutes} 分間ログインできません。"
            if records.login_failures_since(None, since) >= limits.login_failures_global:
                return f"ログインの失敗が多いため、しばらく（最大 {minutes} 分）すべてのログインを止めています。"
            return None
        ctx.limiter.check(kind, actor, limits.admin_failures, window, "ログインの失敗")
        ctx.limiter.check(kind, "*", limits.login_failures_global, window, "ログインの失敗")
    except RateLimited:
        return f"ログインの失敗が続いたため、{minutes} 分間ログインできません。"
    return None


# -- the FastAPI app -------------------------------------------------------------------------------------
def create_app(ctx: AppContext):
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

    from .api import api_router, openapi_page
    from .web import build

    cfg = ctx.cfg
    app = FastAPI(title="TICS Assistant API", version="1", docs_url=None, openapi_url="/api/openapi.json", redoc_url=None,
                  description="技術情報管理認証制度の指針に根拠を示して答える API（ask --json と同じ形）と、見極め診断の API。")
    app.include_router(api_router(ctx))

    @app.get("/api/docs", include_in_schema=False)
    def api_docs():
        return HTMLResponse(openapi_page(app.openapi()))

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        ready = ctx.live.ready
        body = {"status": "ready" if ready else "starting", "index_version": ctx.live.current().version if ready else None,
                "records": "ok" if ctx.records is not None else "unavailable", "detail": None if ready else ctx.live.error}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics():
        m = ctx.metrics
        m.ready.set(1 if ctx.live.ready else 0)
        m.index_swaps.set(ctx.live.swaps)
        if ctx.live.ready:
            m.index_version.clear()
            m.index_version.labels(ctx.live.current().version).set(1)
        return PlainTextResponse(m.render(), media_type="text/plain; version=0.0.4")

    @app.post("/admin/login", include_in_schema=False)
    async def admin_login(request: Request):
        form = await _form(request)
        actor = client_of(request)
        if not cfg.server.admin_password:
            return JSONResponse({"ok": False, "detail": "管理ページは無効です（ASSISTANT_ADMIN_PASSWORD が未設定）。"}, status_code=404)
        try:
            records = ctx.require_records()
        except RecordsUnavailable as exc:
            return JSONResponse({"ok": False, "detail": str(exc)}, status_code=503)
        if (why := login_throttled(ctx, records, actor, "admin_login")) is not None:
            records.log("admin_login", None, False, actor, "locked")
            return JSONResponse({"ok": False, "detail": why}, status_code=429)
        if not hmac.compare_digest(str(form.get("password", "")).encode(), cfg.server.admin_password.encode()):
            records.login_failed(actor)
            records.log("admin_login", None, False, actor, "wrong password")
            return JSONResponse({"ok": False, "detail": "パスワードが違います。"}, status_code=401)
        records.clear_login_failures(actor)
        token = records.open_admin_session(cfg.server.admin_session_s)
        records.log("admin_login", None, True, actor)
        response = JSONResponse({"ok": True, "detail": "ログインしました。"})
        response.set_cookie(ADMIN_COOKIE, token, max_age=int(cfg.server.admin_session_s), httponly=True, samesite="strict",
                            secure=_https(request, cfg), path="/")
        return response

    @app.post("/admin/logout", include_in_schema=False)
    def admin_logout(request: Request):
        if ctx.records is not None:
            ctx.records.close_admin_session(request.cookies.get(ADMIN_COOKIE))
            ctx.records.log("admin_logout", None, True, client_of(request))
        response = JSONResponse({"ok": True, "detail": "ログアウトしました。"})
        response.delete_cookie(ADMIN_COOKIE, path="/")
        return response

    @app.get("/login", include_in_schema=False)
    def login_form():
        return HTMLResponse(LOGIN_PAGE)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        actor = client_of(request)
        if (why := login_throttled(ctx, None, actor, "token_login")) is not None:
            return HTMLResponse(LOGIN_PAGE.replace("<!--msg-->", f"<p>{html.escape(why)}</p>"), status_code=429)
        form = await _form(request)
        given = str(form.get("token", ""))
        if not cfg.server.access_token or not hmac.compare_digest(given.encode(), cfg.server.access_token.encode()):
            ctx.limiter.note("token_login", actor)
            ctx.limiter.note("token_login", "*")
            return HTMLResponse(LOGIN_PAGE.replace("<!--msg-->", "<p>トークンが違います。</p>"), status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(ACCESS_COOKIE, access_cookie_value(given), httponly=True, samesite="lax", secure=_https(request, cfg), path="/",
                            max_age=86400 * 7)
        return response

    @app.get(DOWNLOAD_PREFIX + "{token}", include_in_schema=False)
    def download(token: str, request: Request):
        """A file offered to a page: made now from the session's result, audited, never stored."""
        actor = client_of(request)
        try:
            ctx.limiter.hit("download", actor, ctx.limits.downloads_per_minute, what="ダウンロード")
        except RateLimited as exc:
            return JSONResponse({"detail": str(exc)}, status_code=429)
        offer = ctx.downloads.get(token)
        if offer is not None and offer.code and ctx.records is not None and ctx.records.stored_key(offer.code) is None:
            ctx.withdraw_record(offer.code)  # deleted elsewhere (another replica, the CLI, the retention purge)
            offer = None
        if offer is None:
            return JSONResponse({"detail": "このリンクは期限が切れたか、記録が削除されました。画面のボタンをもう一度押してください。"}, status_code=404)
        body = offer.body()
        if offer.code and ctx.records is not None:
            ctx.records.log("download", offer.code, True, actor, offer.name.rsplit(".", 1)[-1])
        return Response(body, media_type=offer.media_type,
                        headers={"Content-Disposition": offer.content_disposition(), "Cache-Control": "no-store, private"})

    @app.get("/internal/stats", include_in_schema=False)
    def internal_stats(request: Request):
        """Server time per answer, for the load test: only for an admin session."""
        if not ctx.is_admin(request.cookies.get(ADMIN_COOKIE)):
            return JSONResponse({"detail": "管理ページでログインしてください。"}, status_code=403)
        return JSONResponse(ctx.server_stats())

    import gradio as gr

    from .fonts import japanese_font

    demo = build(ctx)
    demo.queue(default_concurrency_limit=8, max_size=200)
    font = japanese_font()
    css = f"@font-face {{ font-family: 'IPAexGothic'; src: url('/gradio_api/file={font}') format('truetype'); }}\n" + CSS
    theme = gr.themes.Default(font=["IPAexGothic", "ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "IPAexGothic", "monospace"])
    gr.mount_gradio_app(app, demo, path="/", allowed_paths=[str(font.parent)], max_file_size=ctx.limits.upload_bytes,
                        show_error=False, theme=theme, css=css, footer_links=[], run_history=False)
    return Guard(app, ctx)


CSS = """
.progress-outer { background: #eaeef2; border-radius: 6px; height: 12px; }
.progress-inner { background: #1f6feb; border-radius: 6px; height: 12px; }
.official { border-left: 4px solid #1f6feb; padding-left: 8px; }
.advice { border-left: 4px solid #d29922; padding-left: 8px; }
a.download-link { display: inline-block; padding: 8px 14px; border: 1px solid #8c959f; border-radius: 6px; background: #f6f8fa;
                  color: #1f2328; text-decoration: none; font-weight: 600; }
a.download-link:hover, a.download-link:focus { background: #eaeef2; outline: 2px solid #0969da; }
"""
LOGIN_PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>TICS Assistant — ログイン</title></head>
<body style="font-family: sans-serif; max-width: 28rem; margin: 4rem auto;"><h1>TICS Assistant</h1>
<p>このサーバーはアクセス用のトークンで保護されています。運用者から受け取ったトークンを入力してください。</p><!--msg-->
<form method="post" action="/login"><input type="password" name="token" autocomplete="current-password" style="width: 100%">
<button type="submit">ログイン</button></form></body></html>"""


async def _form(request) -> dict:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return dict(await request.form())


def _https(request, cfg: Config) -> bool:
    return request.url.scheme == "https"  # Guard set the scheme from X-Forwarded-Proto of a trusted proxy


def _remove_old_exports(cfg: Config) -> None:
    """Earlier versions wrote download files under the home (and gradio kept copies in its cache):
    at start, before gradio uses its cache, none of them are kept."""
    import shutil

    shutil.rmtree(cfg.exports_dir, ignore_errors=True)
    shutil.rmtree(cfg.home / "gradio-cache", ignore_errors=True)


def serve(cfg: Config, notify=print) -> None:
    """Run the app with uvicorn; refuses to expose an unauthenticated app beyond loopback."""
    import uvicorn

    if cfg.server.exposed and not cfg.server.access_token:
        raise ConfigError(
            f"{cfg.server.host} で待ち受けるには ASSISTANT_ACCESS_TOKEN（アクセス用のトークン）の設定が必要です。"
            "外部に公開するときは TLS の逆プロキシ（nginx など）の後ろで動かしてください（deploy/README.md）。"
        )
    from .observe import json_logs

    json_logs()  # one JSON object a line, whatever a library prints
    os.environ.setdefault("GRADIO_TEMP_DIR", str(cfg.home / "gradio-cache"))  # gradio's copies of uploads stay private
    ctx = AppContext.open(cfg, notify)
    ctx.live.start()
    ctx.housekeeping()
    app = create_app(ctx)
    # Forwarded headers are read by Guard, from the configured proxies only (uvicorn's own reading is off).
    options = dict(log_config=None, access_log=False, proxy_headers=False, timeout_graceful_shutdown=5)
    if cfg.server.uds:
        if os.path.exists(cfg.server.uds):
            os.unlink(cfg.server.uds)  # left by a replica that was killed
        notify(f"TICS Assistant: Unix ソケット {cfg.server.uds} で待ち受けます")
        uvicorn.run(app, uds=cfg.server.uds, **options)
        return
    notify(f"TICS Assistant: http://{'127.0.0.1' if not cfg.server.exposed else cfg.server.host}:{cfg.server.port}/ を開いてください")
    uvicorn.run(app, host=cfg.server.host, port=cfg.server.port, **options)
