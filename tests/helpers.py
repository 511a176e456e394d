"""Small helpers shared by the test modules: HTTP on loopback, a browser page that logs every
request, and a private copy of the test session's home."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
FIXTURE = ROOT / "tests" / "fixtures" / "fictional_standard.txt"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is a result to look at, not to follow
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http(method: str, url: str, data=None, headers: dict | None = None, raw: bytes | None = None, timeout: float = 60):
    """(status, headers, body bytes) for one request; HTTP errors are results, not exceptions."""
    body = raw if raw is not None else (json.dumps(data, ensure_ascii=False).encode() if data is not None else None)
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=body, headers=hdrs, method=method)
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def ask(url: str, question: str, headers: dict | None = None) -> tuple[int, dict]:
    status, _, body = http("POST", url + "api/v1/ask", {"question": question}, headers)
    return status, json.loads(body or b"{}")


def private_home(home: Path, dest: Path) -> Path:
    """A copy of the session's home (its built index) that a test may change freely."""
    shutil.copytree(home, dest, ignore=shutil.ignore_patterns("records.sqlite3*", "exports", "gradio-cache", "app.log"))
    return dest


def cli(home: Path, *args: str, stdin: str | None = None, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    import os

    e = dict(os.environ, ASSISTANT_HOME=str(home), **(env or {}))
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=e, input=(stdin or "").encode(), capture_output=True, timeout=timeout)


class LoggedPage:
    """A browser page that records every request it makes (to prove nothing leaves loopback)."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(url)
        # Ready once the app has rendered: "attached", not "visible", because a share link
        # (?code=) switches to the 見極め tab on load and hides the chat box, sometimes before
        # a visibility wait has seen it (CI failed this way). Actions such as fill() still wait
        # for their element to be visible.
        self.page.wait_for_selector("#question textarea", state="attached", timeout=60000)

    @property
    def outside(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("http://127.0.0.1", "data:", "blob:"))]

    def close(self) -> None:
        self.context.close()


# -- the page driven through gradio's API (the same handlers a browser's clicks call) -------------------------
TRIAGE_STEPS = [  # (choice, multi, free): firm, industry, size, collaboration, items, then one item's questions
    (None, None, "{firm}"), ("金属加工", None, None), ("6〜20人", None, None), (None, ["自社製品"], None), (None, [], "{item}"),
    ("はい", None, None), ("いいえ", None, None), (None, ["書面"], "事務所の書庫"), ("部署内", None, None), ("いいえ", None, None),
]


def texts_of(outputs) -> list[str]:
    return [o for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs]) if isinstance(o, str)]


def finish_triage(client, firm: str, item: str) -> dict:
    """Answer a whole diagnosis in one page session; returns its code, edit secret, result text and download links."""
    import re

    out = None
    for choice, multi, free in TRIAGE_STEPS:
        out = client.predict(choice, multi or [], (free or "").format(firm=firm, item=item), api_name="/triage_next")
    texts = texts_of(out)
    m = re.search(r"相談コード \*\*(\w+)\*\*.*編集用の合言葉: \*\*([\w\\-]+)\*\*", texts[0])
    assert m, texts[0]
    links = re.findall(r'href="(/download/[^"]+)"', "".join(texts))  # the record's, then the templates'
    record_links = re.findall(r'id="download-(?:md|pdf|xlsx)" href="(/download/[^"]+)"', "".join(texts))
    result = next((t for t in texts if t.startswith("# 見極め診断の記録")), "")
    return {"code": m.group(1), "secret": m.group(2).replace("\\", ""), "result": result, "links": links, "record_links": record_links, "outputs": out}


def data_files_containing(home: Path, *needles: str) -> list[str]:
    """Files under the data folder whose bytes hold any of the texts (UTF-8), as paths relative to it."""
    found = []
    encoded = [n.encode("utf-8") for n in needles]
    for p in sorted(home.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if any(e in data for e in encoded):
                found.append(str(p.relative_to(home)))
    return found


ADMIN_PASSWORD = "round-two admin"  # the keyed_app fixture's


def admin_cookie(url: str, password: str = ADMIN_PASSWORD, headers: dict | None = None) -> str:
    status, hdrs, body = http("POST", url + "admin/login", {"password": password}, headers)
    assert status == 200, body
    return hdrs["set-cookie"].split(";")[0]
