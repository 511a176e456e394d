"""The REST API for integrators (advisers' own systems, evaluators' scripts), beside the UI.

``POST /api/v1/ask`` returns the same JSON as ``assistant ask --json``; ``POST /api/v1/triage``
takes an answers file (schemas/triage_answers.schema.json) and returns the result, saving it
when asked. The same limits as the UI apply, and the same access token when the app is
exposed. ``/api/docs`` renders the OpenAPI description as a plain page (no CDN, no scripts).
"""

from __future__ import annotations

import html
import json
import time

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .consultations import Consultations
from .context import AppContext, app_context
from .guard import QuestionError
from .index import IndexUnavailable
from .limits import RateLimited
from .proxies import client_of
from .records import RecordError
from .triage import TriageError
from .triage.session import TriageSession

Ctx = Annotated[AppContext, Depends(app_context)]
router = APIRouter(prefix="/api/v1")


class Turn(BaseModel):
    role: str = Field(pattern="^(user|assistant)$")
    content: str = Field(max_length=12000)


class AskRequest(BaseModel):
    question: str = Field(description="質問（1,000 文字まで）", max_length=4000)
    history: list[Turn] = Field(default_factory=list, max_length=12, description="会話の続きのときの履歴")


class TriageRequest(BaseModel):
    answers: dict = Field(description="回答ファイルの内容（schemas/triage_answers.schema.json）")
    save: bool = Field(False, description="true なら記録を保存し、相談コードと編集用の合言葉を返します")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def limited(ctx: AppContext, request: Request, bucket: str, limit: int, what: str) -> JSONResponse | None:
    """The rate limit per client (the body's size was capped by the server's Guard while it was read)."""
    try:
        ctx.limiter.hit(bucket, client_of(request), limit, what=what)
    except RateLimited as exc:
        return _error(429, str(exc))
    return None

@router.post("/ask", summary="質問に答える（ask --json と同じ形）")
def ask(body: AskRequest, request: Request, ctx: Ctx):
    if (denied := limited(ctx, request, "ask", ctx.limits.asks_per_minute, "質問")) is not None:
        return denied
    started = time.perf_counter()
    try:
        bundle = ctx.live.current()
        answer = bundle.conversation.ask(body.question, [t.model_dump() for t in body.history])
    except QuestionError as exc:
        return _error(400, str(exc))
    except IndexUnavailable as exc:
        return _error(503, str(exc))
    except Exception as exc:
        ctx.metrics.errors.labels("api_ask").inc()
        return _error(500, f"回答中にエラーが起きました（{type(exc).__name__}）。もう一度お試しください。")
    ctx.record_answer_time(time.perf_counter() - started)
    ctx.metrics.answers.labels(answer.intent, "rest").inc()
    if answer.refused:
        ctx.metrics.refusals.labels(answer.refusal_reason or "").inc()
    return answer.to_json()

@router.post("/triage", summary="回答ファイルから見極め診断の結果を返す")
def triage(body: TriageRequest, request: Request, ctx: Ctx):
    if (denied := limited(ctx, request, "triage", ctx.limits.triage_steps_per_minute, "診断の操作")) is not None:
        return denied
    try:
        bundle = ctx.live.current()
        session = TriageSession(bundle.triage).from_answers(body.answers)
        result = session.result()
    except TriageError as exc:
        return _error(400, str(exc))
    except IndexUnavailable as exc:
        return _error(503, str(exc))
    out = result.to_dict()
    if body.save:
        try:
            service = Consultations(ctx.require_records(), bundle.triage, client_of(request), via="api")
            saved = service.save_result(session.state, result, bundle.corpus.version)
        except RecordError as exc:
            return _error(503, str(exc))
        out["code"], out["edit_secret"] = saved.code, saved.secret
    ctx.metrics.triage_completions.labels("rest").inc()
    return out


def openapi_page(spec: dict) -> str:
    """The OpenAPI description as a plain, self-contained page (nothing is loaded from outside)."""
    parts = [f"<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>{html.escape(spec['info']['title'])}</title></head>",
             "<body style='font-family: sans-serif; max-width: 60rem; margin: 2rem auto;'>",
             f"<h1>{html.escape(spec['info']['title'])}</h1><p>{html.escape(spec['info'].get('description', ''))}</p>",
             "<p>機械可読な定義: <a href='/api/openapi.json'>/api/openapi.json</a></p>"]
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            parts.append(f"<h2>{html.escape(method.upper())} {html.escape(path)}</h2><p>{html.escape(op.get('summary', ''))}</p>")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                parts.append("<pre>" + html.escape(json.dumps(body, ensure_ascii=False, indent=2)) + "</pre>")
    parts.append("<h2>スキーマ</h2><pre>" + html.escape(json.dumps(spec.get("components", {}), ensure_ascii=False, indent=2)) + "</pre></body></html>")
    return "".join(parts)
