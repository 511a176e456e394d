"""What the routes and the page share: the configuration, the live services, the records, the
download offers, the rate limiter and the metrics. It is built once in ``serve`` (or a test) and
reaches the routes through ``app.state.ctx`` (the ``app_context`` dependency) and the page through
``build(ctx)``; nothing here imports the routes or the page.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace

from fastapi import Request  # at module level: with postponed annotations FastAPI resolves it from here

from .config import Config, ConfigError
from .downloads import Downloads
from .limits import LIMITS, Limits, RateLimiter
from .live import LiveServices
from .observe import Metrics, log
from .records import RecordError, Records, RecordsUnavailable
from .scoring import percentile

ADMIN_COOKIE = "tics_admin"  # an admin session (records.open_admin_session)
ACCESS_COOKIE = "tics_access"  # a keyed digest of the access token (middleware.access_cookie_value)


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


async def app_context(request: Request) -> AppContext:
    """The dependency routes take the context by (``Depends(app_context)``). Async: a plain attribute read
    needs no worker thread, and a health check must not queue behind the page's answers for one."""
    return request.app.state.ctx


def _remove_old_exports(cfg: Config) -> None:
    """Earlier versions wrote download files under the home (and gradio kept copies in its cache):
    at start, before gradio uses its cache, none of them are kept."""
    shutil.rmtree(cfg.exports_dir, ignore_errors=True)
    shutil.rmtree(cfg.home / "gradio-cache", ignore_errors=True)
