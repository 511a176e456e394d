"""#19-1: X-Forwarded-For was always trusted. 40 wrong admin passwords, each with another
X-Forwarded-For, got 40 × 401 and never 429; the REST limits were bypassed the same way; the
audit log's actor could be forged; behind the proxy, ``XFF: <attacker>, <real>`` still won; a
cross-site form could lock the admin's own address out."""

import json

from conftest import serve_app
from helpers import http, private_home

PASSWORD = "forwarded admin"


def login(url, password, xff=None, headers=None):
    h = {"X-Forwarded-For": xff} if xff else {}
    h.update(headers or {})
    return http("POST", url + "admin/login", {"password": password}, h)[0]


def test_forwarded_for_is_read_only_from_trusted_proxies_right_to_left():
    from assistant.proxies import TrustedProxies, client_address

    none = TrustedProxies()
    assert client_address("127.0.0.1", "203.0.113.9", none) == "127.0.0.1"  # no proxy configured: the peer
    proxy = TrustedProxies.parse("10.0.0.5, 192.168.0.0/24")
    assert client_address("10.0.0.5", "198.51.100.7", proxy) == "198.51.100.7"
    assert client_address("10.0.0.5", "203.0.113.9, 198.51.100.7", proxy) == "198.51.100.7"  # the client's own entry is ignored
    assert client_address("10.0.0.5", "203.0.113.9, 198.51.100.7, 192.168.0.3", proxy) == "198.51.100.7"  # two proxies
    assert client_address("198.51.100.7", "10.0.0.5", proxy) == "198.51.100.7"  # an untrusted peer cannot name itself
    assert client_address(None, "198.51.100.8", TrustedProxies.parse("unix")) == "198.51.100.8"  # a proxy on a Unix socket
    assert client_address(None, "198.51.100.8", none) == "unix"


def test_rotating_forwarded_headers_neither_escape_the_lockout_nor_the_rate_limits(home, assistant, tmp_path):
    own = private_home(home, tmp_path / "home")
    for url in serve_app(own, ASSISTANT_ADMIN_PASSWORD=PASSWORD, ASSISTANT_ASKS_PER_MINUTE="4"):
        codes = [login(url, "guess", f"203.0.113.{n}") for n in range(8)]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}, codes
        assert login(url, PASSWORD, "203.0.113.200") == 429  # still locked out, whatever the header says
        asks = [http("POST", url + "api/v1/ask", {"question": "保険は必要？"}, {"X-Forwarded-For": f"198.51.100.{n}"})[0] for n in range(6)]
        assert asks[:4] == [200] * 4 and asks[4:] == [429, 429], asks
        from assistant.records import Records

        actors = {a["actor"] for a in Records(own / "records.sqlite3").audit_log(50, "admin_login")}
        assert actors == {"127.0.0.1"}, actors  # the audit log names the real peer


def test_behind_a_proxy_the_right_most_untrusted_address_is_the_client(home, assistant, tmp_path):
    own = private_home(home, tmp_path / "home")
    for url in serve_app(own, ASSISTANT_ADMIN_PASSWORD=PASSWORD, ASSISTANT_TRUSTED_PROXIES="127.0.0.1"):
        # The proxy appended the real address (198.51.100.7) after what the attacker wrote.
        codes = [login(url, "guess", f"203.0.113.{n}, 198.51.100.7") for n in range(6)]
        assert codes[:5] == [401] * 5 and codes[5] == 429, codes
        assert login(url, PASSWORD, "198.51.100.7") == 429  # the real address is locked out…
        assert login(url, PASSWORD, "198.51.100.8") == 200  # …another client is not
        from assistant.records import Records

        failed = {a["actor"] for a in Records(own / "records.sqlite3").audit_log(50, "admin_login") if not a["ok"]}
        assert failed == {"198.51.100.7"}, failed


def test_a_cross_site_form_cannot_log_in_or_lock_the_admin_out(home, assistant, tmp_path):
    own = private_home(home, tmp_path / "home")
    for url in serve_app(own, ASSISTANT_ADMIN_PASSWORD=PASSWORD):
        form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1:3000"}
        for _ in range(6):
            status, _, body = http("POST", url + "admin/login", raw=b"password=guess", headers=form)
            assert status == 403 and "ほかのサイト" in json.loads(body)["detail"]
        status, _, _ = http("POST", url + "admin/login", raw=b"password=guess", headers={**form, "Origin": url.rstrip("/")})
        assert status == 401  # the app's own page may still try (and fail) a login
        assert login(url, PASSWORD) == 200  # the cross-site posts counted for nothing
