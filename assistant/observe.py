"""Structured logs (JSON lines with a request ID) and Prometheus metrics for the served app."""

from __future__ import annotations

import contextvars
import json
import sys
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def new_request_id(given: str | None = None) -> str:
    rid = (given or "").strip()
    return rid[:64] if rid and rid.replace("-", "").isalnum() else uuid.uuid4().hex[:16]


def log(event: str, level: str = "info", **fields) -> None:
    """One JSON line on stdout: time, level, event, the request ID when inside a request, and the fields."""
    row = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "level": level, "event": event}
    rid = fields.pop("request_id", None) or request_id.get()
    if rid:
        row["request_id"] = rid
    row.update(fields)
    sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


class Metrics:
    """The app's metrics in their own registry (one per process; a replica reports its own)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("tics_http_requests", "HTTP requests", ["method", "route", "status"], registry=r)
        self.answers = Counter("tics_answers", "Answers given", ["intent", "channel"], registry=r)
        self.refusals = Counter("tics_refusals", "Answers that refused", ["reason"], registry=r)
        self.errors = Counter("tics_errors", "Errors while handling a request", ["where"], registry=r)
        self.triage_completions = Counter("tics_triage_completions", "Diagnoses completed", ["channel"], registry=r)
        self.answer_seconds = Histogram("tics_answer_seconds", "Server time per answer", registry=r,
                                        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
        self.index_version = Gauge("tics_index_version_info", "The index version in use (value 1)", ["version"], registry=r)
        self.index_swaps = Gauge("tics_index_swaps", "Index versions switched to since start", registry=r)
        self.ready = Gauge("tics_ready", "1 once the index is loaded", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
