"""Downloads offered to one browser session, made when they are fetched and never written to disk.

A record's Markdown, PDF and Excel hold the firm's information, so no copy of them lies in a
folder (or in gradio's cache) where a deleted record would outlive its deletion or a records
key would not cover it. Each offer is an unguessable, short-lived link (``/download/<token>``)
that renders the file from the session's result at the moment it is fetched. Offers expire by
their own age, are withdrawn when their record is deleted, and are bounded in number.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote

PREFIX = "/download/"
MEDIA_TYPES = {
    ".md": "text/markdown; charset=utf-8",
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".jsonl": "application/x-ndjson; charset=utf-8",
}


@dataclass(frozen=True)
class Offer:
    token: str
    name: str  # the file name the browser saves it under
    make: Callable[[], bytes | str]
    owner: str  # the browser session (or "admin") that was offered it
    code: str | None  # the consultation it comes from: withdrawn when that record is deleted
    expires: float

    @property
    def url(self) -> str:
        return PREFIX + self.token

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(self.name[self.name.rfind("."):].lower(), "application/octet-stream")

    def content_disposition(self) -> str:
        ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in self.name)
        return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(self.name)}"

    def body(self) -> bytes:
        data = self.make()
        return data.encode("utf-8") if isinstance(data, str) else data


class Downloads:
    """The offers of this process (a replica serves the links it made; sticky sessions keep a browser on it)."""

    def __init__(self, ttl_s: float = 3600.0, max_offers: int = 20_000, clock: Callable[[], float] = time.time):
        self.ttl_s = ttl_s
        self.max_offers = max_offers
        self.clock = clock
        self._offers: OrderedDict[str, Offer] = OrderedDict()
        self._by_key: dict[tuple[str, str], str] = {}  # (owner, name) → token: the same file offered again keeps one link
        self._lock = threading.Lock()

    def offer(self, owner: str, name: str, make: Callable[[], bytes | str], code: str | None = None) -> str:
        """A link to a file made by ``make`` when fetched; replaces this owner's earlier offer of the same name."""
        now = self.clock()
        with self._lock:
            self._sweep(now)
            old = self._by_key.pop((owner, name), None)
            if old:
                self._offers.pop(old, None)
            offer = Offer(secrets.token_urlsafe(24), name, make, owner, code, now + self.ttl_s)
            self._offers[offer.token] = offer
            self._by_key[(owner, name)] = offer.token
            while len(self._offers) > self.max_offers:  # the oldest go first
                token, dropped = self._offers.popitem(last=False)
                self._by_key.pop((dropped.owner, dropped.name), None)
        return offer.url

    def get(self, token: str) -> Offer | None:
        with self._lock:
            offer = self._offers.get(token)
            if offer is None or offer.expires <= self.clock():
                return None
            return offer

    def withdraw(self, code: str | None = None, owner: str | None = None) -> int:
        """Withdraw every offer of a record (deleted) or of a session (reset); returns how many."""
        with self._lock:
            gone = [t for t, o in self._offers.items() if (code is not None and o.code == code) or (owner is not None and o.owner == owner)]
            for token in gone:
                o = self._offers.pop(token)
                self._by_key.pop((o.owner, o.name), None)
        return len(gone)

    def sweep(self) -> int:
        with self._lock:
            return self._sweep(self.clock())

    def _sweep(self, now: float) -> int:
        # Offers are kept in the order they were made, with one lifetime: the expired are at the front.
        removed = 0
        while self._offers:
            token, o = next(iter(self._offers.items()))
            if o.expires > now:
                break
            del self._offers[token]
            self._by_key.pop((o.owner, o.name), None)
            removed += 1
        return removed

    def count(self) -> int:
        with self._lock:
            return len(self._offers)
