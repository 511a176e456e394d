"""#19-7: another local port could read admin data: gradio answered any localhost/127.0.0.1 origin
with credentials, so with the admin cookie and ``Origin: http://127.0.0.1:3000`` the queue's
responses carried Access-Control-Allow-Origin and 100 consultation rows."""

import json

from helpers import admin_cookie
from helpers import http

EVIL = "http://127.0.0.1:3000"


def test_another_origin_gets_no_cors_and_cannot_post(keyed_app):
    url = keyed_app.url
    cookie = admin_cookie(url)
    for path in ("config", "gradio_api/info", "healthz"):
        status, headers, _ = http("GET", url + path, headers={"Origin": EVIL, "Cookie": cookie})
        assert not [k for k in headers if k.lower().startswith("access-control-")], (path, headers)
    status, headers, _ = http("OPTIONS", url + "gradio_api/queue/join",
                              headers={"Origin": EVIL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert "access-control-allow-origin" not in {k.lower() for k in headers}
    join = json.dumps({"data": [], "fn_index": 0, "session_hash": "evilsess1"}).encode()
    status, _, body = http("POST", url + "gradio_api/queue/join", raw=join, headers={"Origin": EVIL, "Cookie": cookie, "Content-Type": "application/json"})
    assert status == 403 and "ほかのサイト" in json.loads(body)["detail"]
    status, _, _ = http("POST", url + "admin/logout", headers={"Origin": EVIL, "Cookie": cookie})
    assert status == 403  # a cross-site form cannot log the admin out either
    status, _, _ = http("POST", url + "admin/logout", headers={"Origin": url.rstrip("/"), "Cookie": cookie})
    assert status == 200  # the app's own page can
