"""#4: HTML and Markdown in a firm name, an item name or an uploaded clause rendered on the page
(a remote image was fetched, phishing links displayed). Now it is all text, everywhere, and the
browser's request log shows nothing fetched off loopback."""

import json
from pathlib import Path

import pytest

from conftest import serve_app
from helpers import CHROMIUM, BROWSER_ARGS, LoggedPage, cli, http, private_home

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian の chromium がありません（make test が入れます）")
EVIL = '<img src="http://203.0.113.9/x.png"> ![](http://203.0.113.9/p.png) [サポート窓口](http://203.0.113.9/login) <a href="http://203.0.113.9/a">リンク</a>'
DOC = f"""悪意の架空文書（テスト用。実在の告示ではありません）

Ⅰ 架空の方針
第一 架空の事業者は、{EVIL} を掲示すること。
第二 架空の責任者を置くこと。
Ⅱ 架空の管理
第一 架空の台帳に記録すること。
"""


def no_markup(pg) -> None:
    bad = pg.evaluate("""() => [...document.querySelectorAll('img, a, iframe, script')]
        .map(e => e.getAttribute('src') || e.getAttribute('href') || '')
        .filter(u => u.includes('203.0.113.9'))""")
    assert bad == [], bad


def test_user_and_document_text_is_shown_as_text(home, assistant, tmp_path):
    from playwright.sync_api import sync_playwright

    own = private_home(home, tmp_path / "home")
    doc = tmp_path / "evil.txt"
    doc.write_text(DOC, encoding="utf-8")
    assert cli(own, "corpus", "add", str(doc), "--doc", "悪意", "--version", "x1").returncode == 0
    for url in serve_app(own):
        answers = {"firm": {"name": EVIL[:100]}, "items": [{"name": EVIL[:60], "forms": ["書面"], "confidential_obligation": "はい", "location": EVIL[:200]}]}
        status, _, body = http("POST", url + "api/v1/triage", {"answers": answers, "save": True})
        code = json.loads(body)["code"]
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
            lp = LoggedPage(b, url)
            pg = lp.page
            pg.fill("#question textarea", "悪意Ⅰの第一には何と書いてある？")
            pg.click("#send")
            pg.wait_for_function("() => document.querySelector('#chat').innerText.includes('悪意Ⅰの第一')", timeout=60000)
            assert "203.0.113.9" in pg.inner_text("#chat")  # shown, as text
            pg.locator("#sources label", has_text="悪意Ⅰの第一").click()
            pg.wait_for_function("() => document.querySelector('#panel').innerText.includes('203.0.113.9')", timeout=30000)
            pg.fill("#question textarea", EVIL)
            pg.click("#send")
            pg.wait_for_timeout(3000)
            pg.get_by_role("tab", name="資料").click()
            pg.wait_for_function("() => document.querySelector('#docs-tree').innerText.includes('悪意Ⅰの第一')", timeout=30000)
            no_markup(pg)
            lp.close()
            lp = LoggedPage(b, url + "?code=" + code)  # the shared record, opened fresh
            lp.page.wait_for_function("() => document.querySelector('#triage-result-md')?.innerText.includes('203.0.113.9')", timeout=60000)
            no_markup(lp.page)
            lp.page.screenshot(path=str(Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "20-security-text-only.png"), full_page=True)
            requests = lp.requests
            lp.close()
            b.close()
        assert not [u for u in requests if "203.0.113.9" in u]
        assert [u for u in requests if not u.startswith(("http://127.0.0.1", "data:", "blob:"))] == []
