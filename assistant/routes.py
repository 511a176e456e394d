"""The app's own routes beside the REST API and the page: health and metrics, the access-token
login, admin sessions, downloads and the load test's server statistics. Each route takes the
shared context by the ``app_context`` dependency (``app.state.ctx``)."""

from __future__ import annotations

import hmac
import html
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from .context import ACCESS_COOKIE, ADMIN_COOKIE, AppContext, app_context
from .downloads import PREFIX as DOWNLOAD_PREFIX
from .limits import RateLimited
from .middleware import access_cookie_value
from .prompts import render
from .proxies import client_of
from .records import Records, RecordsUnavailable

Ctx = Annotated[AppContext, Depends(app_context)]
router = APIRouter(include_in_schema=False)


def login_page(message: str = "") -> str:
    """The access-token login form (prompts/login.html); the message is shown as text."""
    return render("login", suffix=".html", message=f"<p>{html.escape(message)}</p>" if message else "")


@router.get("/healthz")
async def healthz(ctx: Ctx):  # on the event loop: under load the worker threads are busy answering, and a slow reply here marks the replica down
    ready = ctx.live.ready
    body = {"status": "ready" if ready else "starting", "index_version": ctx.live.current().version if ready else None,
            "records": "ok" if ctx.records is not None else "unavailable", "detail": None if ready else ctx.live.error}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
def metrics(ctx: Ctx):
    m = ctx.metrics
    m.ready.set(1 if ctx.live.ready else 0)
    m.index_swaps.set(ctx.live.swaps)
    if ctx.live.ready:
        m.index_version.clear()
        m.index_version.labels(ctx.live.current().version).set(1)
    return PlainTextResponse(m.render(), media_type="text/plain; version=0.0.4")


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


@router.post("/admin/login")
async def admin_login(request: Request, ctx: Ctx):
    cfg = ctx.cfg
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
                        secure=_https(request), path="/")
    return response


@router.post("/admin/logout")
def admin_logout(request: Request, ctx: Ctx):
    if ctx.records is not None:
        ctx.records.close_admin_session(request.cookies.get(ADMIN_COOKIE))
        ctx.records.log("admin_logout", None, True, client_of(request))
    response = JSONResponse({"ok": True, "detail": "ログアウトしました。"})
    response.delete_cookie(ADMIN_COOKIE, path="/")
    return response


@router.get("/login")
def login_form():
    return HTMLResponse(login_page())


@router.post("/login")
async def login(request: Request, ctx: Ctx):
    actor = client_of(request)
    if (why := login_throttled(ctx, None, actor, "token_login")) is not None:
        return HTMLResponse(login_page(why), status_code=429)
    form = await _form(request)
    given = str(form.get("token", ""))
    token = ctx.cfg.server.access_token
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        ctx.limiter.note("token_login", actor)
        ctx.limiter.note("token_login", "*")
        return HTMLResponse(login_page("トークンが違います。"), status_code=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(ACCESS_COOKIE, access_cookie_value(given), httponly=True, samesite="lax", secure=_https(request), path="/",
                        max_age=86400 * 7)
    return response


@router.get(DOWNLOAD_PREFIX + "{token}")
def download(token: str, request: Request, ctx: Ctx):
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


@router.get("/internal/stats")
def internal_stats(request: Request, ctx: Ctx):
    """Server time per answer, for the load test: only for an admin session."""
    if not ctx.is_admin(request.cookies.get(ADMIN_COOKIE)):
        return JSONResponse({"detail": "管理ページでログインしてください。"}, status_code=403)
    return JSONResponse(ctx.server_stats())


async def _form(request) -> dict:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return dict(await request.form())


def _https(request) -> bool:
    return request.url.scheme == "https"  # the middleware set the scheme from X-Forwarded-Proto of a trusted proxy
