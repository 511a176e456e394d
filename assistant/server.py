"""The served app: FastAPI with the gradio UI mounted at /, the REST API for integrators beside it,
health and metrics, admin sessions, and the checks every request passes.

Every request: a request ID and one JSON log line; the Host header checked; when the app is
exposed beyond loopback (or a token is set) an access token required; gradio's upload route
only for an admin session; security headers (CSP with no remote images, no framing) on every
response. ``serve`` refuses a non-loopback bind without an access token.
"""

from __future__ import annotations

import hmac
import json
import os
import shutil
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request  # at module level: with postponed annotations FastAPI resolves it from here

from .config import LOOPBACK_HOSTS, Config, ConfigError
from .limits import LIMITS, Limits, RateLimited, RateLimiter
from .live import LiveServices
from .observe import Metrics, log, new_request_id, request_id
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
OPEN_PATHS = ("/healthz", "/login")  # reachable without the access token (the proxy's health check; the login form)


class ExportFiles:
    """Download files, one private folder per browser session, removed after ``limits.export_age_s``."""

    def __init__(self, root: Path, limits: Limits = LIMITS):
        self.root = root
        self.limits = limits
        shutil.rmtree(root, ignore_errors=True)  # files of an earlier run are no one's any more
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def folder(self, session: str) -> Path:
        safe = "".join(ch for ch in session if ch.isalnum())[:32] or "x"
        path = self.root / safe
        path.mkdir(exist_ok=True, mode=0o700)
        os.utime(path)
        return path

    def write(self, session: str, name: str, data: bytes | str) -> str:
        path = self.folder(session) / name
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:  # the same content is not written again
            path.write_bytes(data)
        return str(path)

    def sweep(self) -> int:
        cutoff = time.time() - self.limits.export_age_s
        removed = 0
        for folder in self.root.iterdir():
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def count(self) -> int:
        return sum(1 for p in self.root.rglob("*") if p.is_file())


@dataclass
class AppContext:
    """What the routes and the UI share. The live services switch index versions by themselves."""

    cfg: Config
    live: LiveServices
    records: Records | None
    records_error: str | None
    exports: ExportFiles
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
        ctx = cls(cfg, LiveServices(cfg, notify), records, error, ExportFiles(cfg.exports_dir), RateLimiter(), Metrics(), limits, time.time())
        return ctx

    def require_records(self) -> Records:
        if self.records is None:
            raise RecordsUnavailable(self.records_error or "記録を使えません。")
        return self.records

    def is_admin(self, token: str | None) -> bool:
        if not self.cfg.server.admin_password or self.records is None:
            return False
        try:
            return self.records.admin_session_valid(token)
        except Exception:
            return False

    def housekeeping(self) -> None:
        """Every ten minutes: old download files, and records past the retention period."""

        def run() -> None:
            while True:
                time.sleep(600)
                try:
                    self.exports.sweep()
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
        headers = dict(scope.get("headers") or [])
        rid = new_request_id(headers.get(b"x-request-id", b"").decode("latin-1"))
        token = request_id.set(rid)
        path = scope.get("path", "")
        started = time.perf_counter()
        status_box = {"status": 0}
        cfg = self.ctx.cfg

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
                message["headers"] = list(message.get("headers", [])) + [(b"x-request-id", rid.encode())] + SECURITY_HEADERS
            await send(message)

        async def deny(status: int, text: str, location: str | None = None):
            if scope.get("method") in ("POST", "PUT"):  # read what the client sends, so it gets the answer, not a reset
                drained, more = 0, True
                while more and drained <= self.ctx.limits.upload_bytes:
                    message = await receive()
                    drained += len(message.get("body", b""))
                    more = message.get("more_body", False) and message["type"] == "http.request"
            body = json.dumps({"detail": text}, ensure_ascii=False).encode()
            hdrs = [(b"content-type", b"application/json; charset=utf-8")]
            if location:
                hdrs.append((b"location", location.encode()))
            await send_with_headers({"type": "http.response.start", "status": status, "headers": hdrs})
            await send({"type": "http.response.body", "body": body})

        try:
            if scope["type"] == "http":
                if not _host_allowed(headers.get(b"host", b"").decode("latin-1"), cfg):
                    return await deny(400, "Host ヘッダーが許可されていません（ASSISTANT_ALLOWED_HOSTS を確認してください）。")
                cookies = _cookies(headers)
                needs_token = bool(cfg.server.access_token) and not path.startswith(OPEN_PATHS)
                if needs_token and not _token_ok(headers, cookies, cfg.server.access_token):
                    wants_html = b"text/html" in headers.get(b"accept", b"")
                    if wants_html and scope.get("method") == "GET":
                        return await deny(303, "ログインが必要です。", "/login")
                    return await deny(401, "アクセス用のトークンが必要です（Authorization: Bearer または /login）。")
                if scope.get("method") == "POST" and path.rstrip("/").endswith("/upload") and "gradio_api" in path:
                    if not self.ctx.is_admin(cookies.get(ADMIN_COOKIE)):
                        return await deny(403, "ファイルのアップロードは、管理ページでログインしてから行えます。")
            return await self.app(scope, receive, send_with_headers)
        finally:
            if scope["type"] == "http":
                route = path if path.startswith(("/api/", "/healthz", "/metrics", "/admin", "/login")) else ("/gradio_api" if path.startswith("/gradio_api") else "/")
                self.ctx.metrics.requests.labels(scope.get("method", ""), route, str(status_box["status"])).inc()
                if not path.startswith(("/gradio_api/heartbeat", "/static", "/assets")):
                    log("request", method=scope.get("method"), path=path[:120], status=status_box["status"],
                        ms=round((time.perf_counter() - started) * 1000, 1))
            request_id.reset(token)


def _token_ok(headers: dict[bytes, bytes], cookies: dict[str, str], token: str) -> bool:
    auth = headers.get(b"authorization", b"").decode("latin-1")
    given = auth[7:].strip() if auth.lower().startswith("bearer ") else cookies.get(ACCESS_COOKIE, "")
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def client_of(request) -> str:
    """The client address (the proxy's X-Forwarded-For when the app is behind one)."""
    if request is None:
        return "local"
    fwd = request.headers.get("x-forwarded-for", "") if hasattr(request, "headers") else ""
    if fwd:
        return fwd.split(",")[0].strip()[:64]
    client = getattr(request, "client", None)
    return (client.host if client else "local")[:64]


# -- the FastAPI app -------------------------------------------------------------------------------------
def create_app(ctx: AppContext):
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse

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
        since = time.time() - ctx.limits.admin_failure_window_s
        if records.login_failures_since(actor, since) >= ctx.limits.admin_failures:
            records.log("admin_login", None, False, actor, "locked")
            minutes = int(ctx.limits.admin_failure_window_s // 60)
            return JSONResponse({"ok": False, "detail": f"ログインの失敗が続いたため、{minutes} 分間ログインできません。"}, status_code=429)
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
        form = await _form(request)
        given = str(form.get("token", ""))
        if not cfg.server.access_token or not hmac.compare_digest(given.encode(), cfg.server.access_token.encode()):
            return HTMLResponse(LOGIN_PAGE.replace("<!--msg-->", "<p>トークンが違います。</p>"), status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(ACCESS_COOKIE, given, httponly=True, samesite="lax", secure=_https(request, cfg), path="/", max_age=86400 * 7)
        return response

    import gradio as gr

    from .fonts import japanese_font

    demo = build(ctx)
    demo.queue(default_concurrency_limit=8, max_size=200)
    font = japanese_font()
    css = f"@font-face {{ font-family: 'IPAexGothic'; src: url('/gradio_api/file={font}') format('truetype'); }}\n" + CSS
    theme = gr.themes.Default(font=["IPAexGothic", "ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "IPAexGothic", "monospace"])
    gr.mount_gradio_app(app, demo, path="/", allowed_paths=[str(ctx.exports.root), str(font.parent)], max_file_size=ctx.limits.upload_bytes,
                        show_error=False, theme=theme, css=css, footer_links=[], run_history=False)
    return Guard(app, ctx)


CSS = """
.progress-outer { background: #eaeef2; border-radius: 6px; height: 12px; }
.progress-inner { background: #1f6feb; border-radius: 6px; height: 12px; }
.official { border-left: 4px solid #1f6feb; padding-left: 8px; }
.advice { border-left: 4px solid #d29922; padding-left: 8px; }
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
    proto = request.headers.get("x-forwarded-proto", "") if cfg.server.behind_proxy else ""
    return proto == "https" or request.url.scheme == "https"


def serve(cfg: Config, notify=print) -> None:
    """Run the app with uvicorn; refuses to expose an unauthenticated app beyond loopback."""
    import uvicorn

    if cfg.server.exposed and not cfg.server.access_token:
        raise ConfigError(
            f"{cfg.server.host} で待ち受けるには ASSISTANT_ACCESS_TOKEN（アクセス用のトークン）の設定が必要です。"
            "外部に公開するときは TLS の逆プロキシ（nginx など）の後ろで動かしてください（deploy/README.md）。"
        )
    os.environ.setdefault("GRADIO_TEMP_DIR", str(cfg.home / "gradio-cache"))  # gradio's copies of downloads stay private
    ctx = AppContext.open(cfg, notify)
    ctx.live.start()
    ctx.housekeeping()
    app = create_app(ctx)
    notify(f"TICS Assistant: http://{'127.0.0.1' if not cfg.server.exposed else cfg.server.host}:{cfg.server.port}/ を開いてください")
    uvicorn.run(app, host=cfg.server.host, port=cfg.server.port, log_config=None, access_log=False,
                proxy_headers=cfg.server.behind_proxy, forwarded_allow_ips="127.0.0.1" if cfg.server.behind_proxy else None,
                timeout_graceful_shutdown=5)
