"""#19-9: the access-token login had no throttling (30 wrong tokens, 30 × 401) and the cookie
held the raw token. (#19-8 with the token on: /loginXYZ paths were open and added series.)"""

from conftest import serve_app
from helpers import http, private_home

TOKEN = "round-two-access-token"


def post_token(url, token):
    return http("POST", url + "login", raw=f"token={token}".encode(), headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_token_logins_are_throttled_and_the_cookie_is_not_the_token(home, assistant, tmp_path):
    own = private_home(home, tmp_path / "home")
    for url in serve_app(own, ASSISTANT_ACCESS_TOKEN=TOKEN):
        status, headers, _ = post_token(url, TOKEN)
        cookie = headers["set-cookie"].split(";")[0]
        assert status == 303 and cookie.startswith("tics_access=") and TOKEN not in cookie
        assert http("POST", url + "api/v1/ask", {"question": "保険は必要？"}, {"Cookie": cookie})[0] == 200  # the cookie works
        assert http("POST", url + "api/v1/ask", {"question": "保険は必要？"}, {"Cookie": f"tics_access={TOKEN}"})[0] == 401  # the raw token is no cookie
        for path in ("loginXYZ", "login/../api/v1/ask", "healthzz"):
            assert http("GET", url + path)[0] in (401, 303)  # only /login and /healthz themselves are open
        codes = [post_token(url, f"guess{n}")[0] for n in range(7)]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}, codes
        assert post_token(url, TOKEN)[0] == 429  # locked out for the window, even with the right token
        metrics = http("GET", url + "metrics", headers={"Authorization": f"Bearer {TOKEN}"})[2].decode()
        assert "loginXYZ" not in metrics and "healthzz" not in metrics
