"""#19-3: a deleted record stayed downloadable. After the firm deleted its consultation, the admin's
PDF of it was still served at /gradio_api/file=<data folder>/exports/admin/見極め診断_<CODE>.pdf to
anyone, with no rate limit and no audit entry; 20 plaintext copies stayed in gradio's cache, and
the hourly sweep never ran because every write refreshed the shared folder's time."""

from urllib.parse import quote

from gradio_client import Client

from assistant.limits import Limits

from helpers import data_files_containing, finish_triage, http, texts_of


def test_a_deleted_record_leaves_no_link_and_no_file(keyed_app):
    url = keyed_app.url
    page = Client(url, verbose=False)
    r = finish_triage(page, "削除予定精工", "消える金型図面")
    alone = {"X-Forwarded-For": "192.0.2.31"}  # this test's own client address: its 20 downloads count against no other test's limit
    for link in r["links"]:
        status, headers, body = http("GET", url + link.lstrip("/"), headers=alone)
        assert status == 200 and "attachment" in headers["content-disposition"] and headers["cache-control"].startswith("no-store")
    assert data_files_containing(keyed_app.home, "削除予定精工", "消える金型図面") == []  # the files were made in memory
    audit = keyed_app.records().audit_log(200, "download")
    assert sum(1 for a in audit if a["code"] == r["code"]) == len(r["links"]) > 3  # each download is audited, the templates' too
    out = page.predict(True, api_name="/triage_delete")
    assert any("削除しました" in t for t in texts_of(out))
    for link in r["links"]:
        status, _, body = http("GET", url + link.lstrip("/"), headers=alone)
        assert status == 404 and "削除" in body.decode("utf-8")
    legacy = url + quote(f"gradio_api/file={keyed_app.home}/exports/admin/見極め診断_{r['code']}.pdf")
    assert http("GET", legacy)[0] in (403, 404)
    assert data_files_containing(keyed_app.home, r["code"]) == []


def test_a_record_deleted_elsewhere_takes_its_links_with_it(keyed_app):
    page = Client(keyed_app.url, verbose=False)
    r = finish_triage(page, "別経路工業", "治具の寸法表")
    assert http("GET", keyed_app.url + r["links"][0].lstrip("/"))[0] == 200
    keyed_app.records().delete_consultation(r["code"], admin=True)  # another replica, the CLI, or the retention purge
    assert http("GET", keyed_app.url + r["links"][0].lstrip("/"))[0] == 404


def test_downloads_are_rate_limited(keyed_app):
    page = Client(keyed_app.url, verbose=False)
    r = finish_triage(page, "連打工業", "図面丙")
    alone = {"X-Forwarded-For": "192.0.2.33"}  # this test's own client address (the limit is per address)
    limit = Limits().downloads_per_minute
    codes = [http("GET", keyed_app.url + r["links"][0].lstrip("/"), headers=alone)[0] for _ in range(limit + 2)]
    assert codes[:limit] == [200] * limit and codes[limit:] == [429, 429], codes


def test_links_expire_by_their_own_age_while_new_ones_are_made():
    from assistant.downloads import Downloads

    now = [1000.0]
    d = Downloads(ttl_s=60, clock=lambda: now[0])
    old = d.offer("a", "x.md", lambda: "old").removeprefix("/download/")
    for n in range(50):  # a busy session keeps offering: that refreshes nothing of the old link
        now[0] += 2
        d.offer("b", f"y{n}.md", lambda: "new")
    assert d.get(old) is None
    assert d.get(d.offer("c", "z.md", lambda: "z").removeprefix("/download/")).body() == b"z"
