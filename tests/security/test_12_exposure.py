"""#12: binding to 0.0.0.0 gave no warning and no authentication, sent no security headers and
accepted any Host header."""

import subprocess
import sys

from conftest import serve_app
from helpers import ROOT, http, private_home


def test_a_public_bind_without_a_token_is_refused(home, tmp_path):
    import os

    env = dict(os.environ, ASSISTANT_HOME=str(tmp_path / "h"), ASSISTANT_HOST="0.0.0.0", ASSISTANT_PORT="7999")
    env.pop("ASSISTANT_ACCESS_TOKEN", None)
    p = subprocess.run([sys.executable, str(ROOT / "app.py")], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 2 and "ASSISTANT_ACCESS_TOKEN" in p.stderr and "逆プロキシ" in p.stderr


def test_a_token_is_required_headers_are_set_and_the_host_is_checked(home, assistant, tmp_path):
    own = private_home(home, tmp_path / "home")
    for url in serve_app(own, ASSISTANT_ACCESS_TOKEN="s3cret-token"):
        status, headers, _ = http("GET", url, headers={"Accept": "text/html"})
        assert status == 303 and headers["location"] == "/login"
        assert http("POST", url + "api/v1/ask", {"question": "保険は？"})[0] == 401
        status, headers, _ = http("POST", url + "api/v1/ask", {"question": "保険や準備金は必要？"}, headers={"Authorization": "Bearer s3cret-token"})
        assert status == 200
        assert "frame-ancestors 'none'" in headers["content-security-policy"] and headers["x-content-type-options"] == "nosniff"
        assert http("GET", url + "healthz")[0] == 200  # the proxy's health check needs no token
        status, headers, _ = http("POST", url + "login", raw=b"token=s3cret-token", headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303 and "HttpOnly" in headers["set-cookie"]
        status, _, body = http("GET", url + "healthz", headers={"Host": "evil.example"})
        assert status == 400 and "Host" in body.decode()
