"""Structured logs (JSON lines with a request ID) and Prometheus metrics for the served app."""

from __future__ import annotations

import contextvars
import io
import json
import logging
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


class JsonStderr(io.TextIOBase):
    """stderr as JSON lines: what libraries print there (gradio's tracebacks, warnings, uvicorn's
    errors) becomes one JSON object a line, so a log reader never meets a multi-line traceback.

    A traceback is folded into one object with its frames (code locations) and the exception's
    class only: the message after it may repeat what a user sent (a validation error lists the
    inputs), and the logs carry no questions."""

    def __init__(self, out=None):
        self._out = out or sys.__stderr__
        self._pending = ""
        self._trace: list[str] | None = None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            self._line(line)
        return len(text)

    def _line(self, line: str) -> None:
        if self._trace is not None:
            if line.startswith((" ", "\t")) or not line.strip() or line.startswith(("During handling", "The above exception", "Traceback")):
                if line.strip().startswith("File "):
                    self._trace.append(line.strip()[:300])
                return
            frames, self._trace = self._trace, None
            self._emit("traceback", "error", error=line.split(":", 1)[0].strip()[:120], frames=frames[-12:])
            return
        if line.startswith("Traceback"):
            self._trace = []
        elif line.strip():
            self._emit("stderr", "warning", text=line[:300])

    def _emit(self, event: str, level: str, **fields) -> None:
        row = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "level": level, "event": event, **fields}
        self._out.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._out.flush()

    def flush(self) -> None:
        self._out.flush()


class JsonLogHandler(logging.Handler):
    """Records of the logging module (uvicorn, gradio, httpx…) as JSON lines, a traceback folded as in JsonStderr."""

    def emit(self, record: logging.LogRecord) -> None:
        fields = {"logger": record.name, "message": record.getMessage()[:300]}
        if record.exc_info and record.exc_info[0] is not None:
            import traceback

            fields["error"] = record.exc_info[0].__name__
            fields["frames"] = [f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(record.exc_info[2])][-12:]
        log("log", record.levelname.lower(), **fields)


def json_logs() -> None:
    """Make every line the process writes one JSON object (called once, by the served app)."""
    sys.stderr = JsonStderr()
    logging.basicConfig(handlers=[JsonLogHandler()], level=logging.WARNING, force=True)
