"""Limits on work per request and per user, in one named policy, and the rate limiter that applies them.

Each limit has a Japanese message that says what to do. Rates are counted per client (the
browser session, or the address for the REST API and record lookups) in a sliding window; the
admin login is throttled in the records so every replica counts the same failures.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    items: int = 30  # kinds of information in one triage (a first plan; more belong in several sessions)
    item_name_chars: int = 60
    text_chars: int = 200  # a free-text triage answer (a place, a firm's name)
    request_bytes: int = 64 * 1024  # a REST request (a question, or an answers file)
    page_request_bytes: int = 1024 * 1024  # a request of the page (a chat turn, the adviser's grid)
    form_request_bytes: int = 16 * 1024  # a login form
    chat_messages: int = 80  # messages of the page's chat kept and sent back (the oldest go first)
    chat_message_chars: int = 20_000  # a message longer than this is not the app's: dropped
    asks_per_minute: int = 30  # chat and REST answers, per client
    triage_steps_per_minute: int = 120  # answers, going back, progress, per client
    lookups_per_minute: int = 10  # opening a record by its code, per client address
    admin_failures: int = 5  # failed admin (or access-token) logins per address…
    admin_failure_window_s: float = 900.0  # …within this window lock the address out for it
    login_failures_global: int = 50  # failed logins from all addresses in the window: logins pause for everyone
    feedback_per_minute: int = 10  # ratings sent, per browser session
    downloads_per_minute: int = 60  # files downloaded, per client address (a plan offers up to 10: the record thrice, 7 templates)
    upload_bytes: int = 20 * 1024 * 1024
    drain_bytes: int = 4 * 1024 * 1024  # a refused body is read and dropped up to this much (the client gets the answer, not a reset)
    export_age_s: float = 3600.0  # a download link lasts this long
    extracted_chars_total: int = 2_000_000  # text read from one uploaded file
    extracted_chars_page: int = 100_000  # text read from one PDF page
    pdf_stream_bytes: int = 8 * 1024 * 1024  # a decompressed PDF stream


LIMITS = Limits()


class RateLimited(Exception):
    """Too many requests; the message is Japanese and says when to try again."""


class RateLimiter:
    """A sliding-window counter per (bucket, client)."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, bucket: str, client: str, limit: int, window_s: float = 60.0, what: str = "操作") -> None:
        """Count one request; raises RateLimited (and counts nothing) when the window is full."""
        now = time.monotonic()
        with self._lock:
            self._full(self._hits[(bucket, client)], now, limit, window_s, what)
            self._hits[(bucket, client)].append(now)
            self._forget_idle(now, window_s)

    def check(self, bucket: str, client: str, limit: int, window_s: float = 60.0, what: str = "操作") -> None:
        """Raise RateLimited when ``limit`` events are in the window, without counting one (failed logins)."""
        with self._lock:
            self._full(self._hits[(bucket, client)], time.monotonic(), limit, window_s, what)

    def note(self, bucket: str, client: str) -> None:
        """Count one event without checking (a failed login, counted after the fact)."""
        now = time.monotonic()
        with self._lock:
            self._hits[(bucket, client)].append(now)
            self._forget_idle(now, 3600.0)

    @staticmethod
    def _full(q: deque, now: float, limit: int, window_s: float, what: str) -> None:
        while q and now - q[0] > window_s:
            q.popleft()
        if len(q) >= limit:
            wait = int(window_s - (now - q[0])) + 1
            raise RateLimited(f"{what}が多すぎます（{int(window_s)} 秒あたり {limit} 回まで）。{wait} 秒ほど待ってからもう一度お試しください。")

    def _forget_idle(self, now: float, window_s: float) -> None:
        if len(self._hits) > 50_000:  # forget idle clients so memory stays bounded
            for key in [k for k, v in self._hits.items() if not v or now - v[-1] > window_s][:10_000]:
                del self._hits[key]
