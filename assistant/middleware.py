"""The checks every request passes, as one plain ASGI middleware (gradio streams its responses,
which a Starlette BaseHTTPMiddleware would buffer).

Every request: the client's address (forwarded headers believed only from the configured
proxies); a request ID and one JSON log line (share codes and download tokens masked); the Host
header checked; when the app is exposed beyond loopback (or a token is set) an access token
required; another site's pages may neither change anything nor read an answer (no CORS for
them); the body capped while it is read, chunked or not, before anything parses it; NaN and
lone surrogates refused; gradio's upload route only for an admin session and its file route
never for a URL; security headers (CSP with no remote images, no framing) on every response.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from urllib.parse import urlsplit

from .config import LOOPBACK_HOSTS, Config
from .context import ACCESS_COOKIE, ADMIN_COOKIE, AppContext
from .downloads import PREFIX as DOWNLOAD_PREFIX
from .limits import Limits
from .observe import log, new_request_id, request_id
from .proxies import client_address

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

        # A refused body is read and dropped before the answer, so that the client gets the answer and
        # not a reset (closing with its body unread makes the kernel reset the connection, and the
        # answer already sent is lost). Up to the route's own cap: an upload refused for want of a
        # login may be 20 MB, and reading only drain_bytes of it lost the 403 on a loaded machine.
        drain_cap = max(self.ctx.limits.drain_bytes, body_limit(path, self.ctx.limits))

        async def deny(status: int, text: str, location: str | None = None):
            drained = 0
            while unread["more"] and drained <= drain_cap:
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
