"""The real page in headless Chromium (Debian's chromium, driven by Playwright).

Screenshots of each step are written to artifacts/screenshots/. Every request the page
makes must stay on 127.0.0.1 (no fonts or scripts from the internet).
"""

import shutil
from pathlib import Path

import pytest

from conftest import ROOT, serve_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "screenshots"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian の chromium がありません（make test が入れます）")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
ADMIN_PASSWORD = "test-admin-pass"


@pytest.fixture(scope="module")
def server(home, assistant):
    yield from serve_app(home, ASSISTANT_ADMIN_PASSWORD=ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.outside = []
    pg.on("request", lambda r: pg.outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    pg.goto(server)
    pg.wait_for_selector("#question textarea", timeout=60000)
    yield pg
    assert pg.outside == [], f"requests left the machine: {pg.outside[:5]}"
    context.close()


def ask(pg, question: str, expect: str) -> None:
    pg.fill("#question textarea", question)
    pg.click("#send")
    pg.wait_for_function("([sel, text]) => document.querySelector(sel)?.innerText.includes(text)", arg=["#chat", expect], timeout=60000)


def test_ask_and_open_a_citation(page):
    ask(page, "保険や準備金は必要？", "指針第3の3")
    page.screenshot(path=str(SHOTS / "01-chat-answer.png"), full_page=True)
    page.locator("#sources label", has_text="指針第3の3").click()
    page.wait_for_function("() => document.querySelector('#panel').innerText.includes('保険、準備金等により備える対応をしていること。')", timeout=30000)
    panel = page.inner_text("#panel")
    assert "公式文書" in panel and "seed-40f4958d" in panel and "第3 技術等情報漏えい防止措置認証業務" in panel
    page.screenshot(path=str(SHOTS / "02-citation-panel.png"), full_page=True)


def test_feedback_is_stored_and_the_conversation_exported(page, home, tmp_path):
    from assistant.records import Records

    ask(page, "パンフレットや説明会はある？", "指針第2の2")
    page.click("#feedback")  # open the accordion
    page.fill("#feedback-comment textarea", "わかりやすい")
    page.click("#good")
    page.wait_for_function("() => document.querySelector('#feedback-msg').innerText.includes('保存しました')", timeout=30000)
    stored = Records(home / "records.sqlite3").list_feedback()
    assert any(f["question"] == "パンフレットや説明会はある？" and f["rating"] == "good" and f["comment"] == "わかりやすい" for f in stored)
    with page.expect_download(timeout=30000) as dl:
        page.click("#export-chat")
    path = tmp_path / "chat.md"
    dl.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert "相談の記録" in text and "指針第2の2" in text and "パンフレット" in text


def test_follow_up_question_uses_the_conversation(page):
    ask(page, "中小企業のために経済産業省は何をするの？", "指針第4の1")
    ask(page, "その中で、調査の結果を踏まえてやることは？", "指針第4の1の四")
    page.screenshot(path=str(SHOTS / "03-follow-up.png"), full_page=True)


def _wait_question(pg, text: str) -> None:
    pg.wait_for_function("([t]) => document.querySelector('#triage-question')?.innerText.includes(t)", arg=[text], timeout=30000)


def test_triage_to_the_end_and_download_both_records(page, tmp_path):
    page.get_by_role("tab", name="見極め診断").click()
    _wait_question(page, "会社名")
    page.fill("#triage-free textarea", "架空精機")
    page.click("#triage-next")
    _wait_question(page, "業種")
    page.locator("#triage-choice label", has_text="金属加工").click()
    page.click("#triage-next")
    _wait_question(page, "従業員")
    page.locator("#triage-choice label", has_text="6〜20人").click()
    page.click("#triage-next")
    _wait_question(page, "他社")
    page.locator("#triage-multi label", has_text="下請け・受託").click()
    page.click("#triage-next")
    _wait_question(page, "技術情報を挙げて")
    page.locator("#triage-multi label", has_text="顧客支給図面").click()
    page.click("#triage-next")
    _wait_question(page, "どんな形で")
    page.screenshot(path=str(SHOTS / "04-triage-question.png"), full_page=True)
    page.locator("#triage-multi label", has_text="書面").click()
    page.click("#triage-next")
    _wait_question(page, "どこに保管")
    page.click("#triage-back")  # going back shows the previous question again
    _wait_question(page, "どんな形で")
    page.locator("#triage-multi label", has_text="電子データ").click()
    page.click("#triage-next")
    _wait_question(page, "どこに保管")
    for _ in range(6):  # location, access, goes_outside, competitive, damage, public: 「わからない」
        page.click("#triage-unknown")
        page.wait_for_timeout(400)
    _wait_question(page, "秘密保持の義務")
    page.locator("#triage-choice label", has_text="はい").click()
    page.click("#triage-next")
    _wait_question(page, "法令上")
    page.click("#triage-unknown")
    page.wait_for_selector("#triage-result-md", state="visible", timeout=60000)
    page.wait_for_function("() => document.querySelector('#triage-result-md').innerText.includes('確実に守るべき')", timeout=30000)
    result = page.inner_text("#triage-result-md")
    assert "顧客支給図面" in result and "指針第4の2の一" in result and "製品の助言" in result
    page.screenshot(path=str(SHOTS / "05-triage-result.png"), full_page=True)
    with page.expect_download(timeout=30000) as md:
        page.click("#download-md")
    md_path = tmp_path / "r.md"
    md.value.save_as(md_path)
    assert "見極め診断の記録" in md_path.read_text(encoding="utf-8")
    with page.expect_download(timeout=30000) as pdf:
        page.click("#download-pdf")
    pdf_path = tmp_path / "r.pdf"
    pdf.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    code = page.inner_text("#triage-question").split("相談コード ")[1].split("（")[0].strip()
    page.goto(page.url.split("?")[0] + "?code=" + code)  # a link brings the consultation back
    page.wait_for_function("() => document.querySelector('#triage-result-md')?.innerText.includes('顧客支給図面')", timeout=60000)
    page.screenshot(path=str(SHOTS / "05b-triage-resumed.png"), full_page=True)


def test_open_a_clause_from_the_document_browser(page, server):
    page.get_by_role("tab", name="資料").click()
    page.fill("#docs-search textarea", "保険")
    page.wait_for_function("() => !document.querySelector('#docs-tree').innerText.includes('指針第2の1')", timeout=30000)
    assert "指針第3の3" in page.inner_text("#docs-tree")
    page.screenshot(path=str(SHOTS / "06-documents-search.png"), full_page=True)
    page.goto(server + "?clause=" + "指針第4の2の一")
    page.wait_for_function("() => document.querySelector('#docs-panel')?.innerText.includes('必要最低限の措置の部分')", timeout=60000)
    page.screenshot(path=str(SHOTS / "07-clause-deep-link.png"), full_page=True)


def test_two_users_do_not_see_each_others_state(browser, server):
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    a, b = a_ctx.new_page(), b_ctx.new_page()
    for pg in (a, b):
        pg.goto(server)
        pg.wait_for_selector("#question textarea", timeout=60000)
    a.fill("#question textarea", "保険や準備金は必要？")
    b.fill("#question textarea", "パンフレットや説明会はある？")
    a.click("#send")
    b.click("#send")
    a.wait_for_function("() => document.querySelector('#chat').innerText.includes('指針第3の3')", timeout=60000)
    b.wait_for_function("() => document.querySelector('#chat').innerText.includes('指針第2の2')", timeout=60000)
    assert "パンフレット" not in a.inner_text("#chat")
    assert "保険" not in b.inner_text("#chat")
    a.screenshot(path=str(SHOTS / "08-user-a.png"))
    b.screenshot(path=str(SHOTS / "09-user-b.png"))
    a_ctx.close()
    b_ctx.close()


def test_operator_uploads_the_standard_through_the_admin_page(browser, home, tmp_path):
    """Guided upload (管理): password, the same add path as the CLI, then answers cite it."""
    own_home = tmp_path / "home"
    shutil.copytree(home, own_home, ignore=shutil.ignore_patterns("records.sqlite3*"))
    fixture = Path(__file__).parent / "fixtures" / "fictional_standard.txt"
    for url in serve_app(own_home, ASSISTANT_ADMIN_PASSWORD=ADMIN_PASSWORD):
        ctx = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
        pg = ctx.new_page()
        pg.goto(url)
        pg.wait_for_selector("#question textarea", timeout=60000)
        pg.get_by_role("tab", name="管理").click()
        pg.fill("#admin-password input", "wrong")
        pg.click("#admin-login")
        pg.wait_for_function("() => document.querySelector('#admin-login-msg')?.innerText.includes('パスワードが違います')", timeout=30000)
        assert not pg.locator("#admin-add").is_visible()
        pg.fill("#admin-password input", ADMIN_PASSWORD)
        pg.click("#admin-login")
        pg.wait_for_selector("#admin-add", state="visible", timeout=30000)
        pg.set_input_files("#admin-upload input[type=file]", str(fixture))
        pg.wait_for_timeout(1500)
        pg.click("#admin-add")
        pg.wait_for_function("() => document.querySelector('#admin-readback textarea')?.value.includes('回答に反映しました')", timeout=120000)
        readback = pg.input_value("#admin-readback textarea")
        assert "基準Ⅲの第二の（一）" in readback and "Ⅲ→電子データ" in readback
        pg.screenshot(path=str(SHOTS / "10-admin-upload.png"), full_page=True)
        pg.get_by_role("tab", name="相談チャット").click()
        ask(pg, "基準Ⅲの第二には何と書いてある？", "基準Ⅲの第二")
        assert "架空の通信を暗号化すること。" in pg.inner_text("#chat")
        ctx.close()
