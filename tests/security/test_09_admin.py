"""#9: the admin login had no throttling, no session expiry and no logout."""

import json
import time

from conftest import serve_app
from helpers import http, private_home

PASSWORD = "correct horse"


def login(url, password):
    status, headers, body = http("POST", url + "admin/login", {"password": password})
    return status, headers.get("set-cookie", "").split(";")[0], json.loads(body)


def upload(url, cookie):
    boundary = "b" * 12
    body = f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.txt\"\r\n\r\nx\r\n--{boundary}--\r\n".encode()
    return http("POST", url + "gradio_api/upload", raw=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": cookie})[0]


def test_login_throttling_expiry_and_logout(home, assistant, tmp_path):
    own = private_home(home, tmp_path / "home")
    for url in serve_app(own, ASSISTANT_ADMIN_PASSWORD=PASSWORD, ASSISTANT_ADMIN_SESSION_MINUTES="0.05"):
        status, cookie, _ = login(url, PASSWORD)
        assert status == 200 and cookie.startswith("tics_admin=")
        assert upload(url, cookie) == 200
        http("POST", url + "admin/logout", headers={"Cookie": cookie})
        assert upload(url, cookie) == 403  # logged out: the old cookie opens nothing
        status, cookie, _ = login(url, PASSWORD)
        time.sleep(4)  # the session lasts 3 s here
        assert upload(url, cookie) == 403
        for _ in range(5):
            assert login(url, "guess")[0] == 401
        status, _, body = login(url, PASSWORD)  # locked out, even with the right password
        assert status == 429 and "ログインできません" in body["detail"]
