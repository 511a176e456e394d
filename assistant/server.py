"""The served app: FastAPI with the gradio page mounted at /, assembled from its parts.

- ``middleware.Guard``: the checks every request passes (client address, host, token, origin,
  body caps, security headers, the request log);
- ``api.router``: the REST API for integrators; ``routes.router``: health, metrics, logins,
  downloads, the load test's statistics;
- ``web.build``: the page.

They share one ``AppContext`` (``app.state.ctx``). ``serve`` refuses a non-loopback bind without
an access token.
"""

from __future__ import annotations

import os

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from . import api, routes
from .config import Config, ConfigError
from .context import AppContext
from .fonts import japanese_font
from .middleware import Guard
from .observe import json_logs
from .prompts import PROMPTS_DIR
from .web import build

CSS = (PROMPTS_DIR / "app.css").read_text(encoding="utf-8")
HEAD = (PROMPTS_DIR / "app_head.html").read_text(encoding="utf-8")  # Japanese labels for gradio's own parts


def create_app(ctx: AppContext) -> Guard:
    app = FastAPI(title="TICS Assistant API", version="1", docs_url=None, openapi_url="/api/openapi.json", redoc_url=None,
                  description="技術情報管理認証制度の指針に根拠を示して答える API（ask --json と同じ形）と、見極め診断の API。")
    app.state.ctx = ctx
    app.include_router(api.router)
    app.include_router(routes.router)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs():
        return HTMLResponse(api.openapi_page(app.openapi()))

    demo = build(ctx)
    demo.queue(default_concurrency_limit=8, max_size=200)
    font = japanese_font()
    css = f"@font-face {{ font-family: 'IPAexGothic'; src: url('/gradio_api/file={font}') format('truetype'); }}\n" + CSS
    theme = gr.themes.Default(font=["IPAexGothic", "ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "IPAexGothic", "monospace"])
    gr.mount_gradio_app(app, demo, path="/", allowed_paths=[str(font.parent)], max_file_size=ctx.limits.upload_bytes,
                        show_error=False, theme=theme, css=css, head=HEAD, footer_links=[], run_history=False)
    return Guard(app, ctx)


def serve(cfg: Config, notify=print) -> None:
    """Run the app with uvicorn; refuses to expose an unauthenticated app beyond loopback."""
    if cfg.server.exposed and not cfg.server.access_token:
        raise ConfigError(
            f"{cfg.server.host} で待ち受けるには ASSISTANT_ACCESS_TOKEN（アクセス用のトークン）の設定が必要です。"
            "外部に公開するときは TLS の逆プロキシ（nginx など）の後ろで動かしてください（deploy/README.md）。"
        )
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
