"""#5: 60,000 inventory items in one request took 50 s of CPU and were saved; there was no cap
and no rate limit. Now every input has a cap with a Japanese error, and answers are rate-limited."""

import json

import pytest

from assistant.limits import RateLimited, RateLimiter
from assistant.triage import TriageError, state_from_answers
from conftest import serve_app
from helpers import http, private_home


def test_sixty_thousand_items_are_refused_with_a_message():
    with pytest.raises(TriageError, match="items"):  # the answers file's own key, which its writer knows
        state_from_answers({"items": [{"name": f"情報{n}"} for n in range(60000)]})


def test_rate_limiter_counts_per_client_in_a_window():
    limiter = RateLimiter()
    for _ in range(3):
        limiter.hit("ask", "a", 3)
    with pytest.raises(RateLimited, match="秒ほど待って"):
        limiter.hit("ask", "a", 3)
    limiter.hit("ask", "b", 3)  # another client is not affected


def test_the_rest_api_caps_payloads_items_and_rate(home, assistant, tmp_path):
    own = private_home(home, tmp_path / "home")
    for url in serve_app(own):
        big = {"answers": {"items": [{"name": f"情報{n}"} for n in range(60000)]}}
        status, _, body = http("POST", url + "api/v1/triage", big)
        assert status == 413 and "大きすぎます" in json.loads(body)["error"]
        status, _, body = http("POST", url + "api/v1/triage", {"answers": {"items": [{"name": f"x{n}"} for n in range(31)]}})
        assert status == 400 and "items" in json.loads(body)["error"]
        codes = [http("POST", url + "api/v1/ask", {"question": "保険や準備金は必要？"})[0] for _ in range(35)]
        assert codes[:30] == [200] * 30 and 429 in codes[30:]
        status, _, body = http("POST", url + "api/v1/ask", {"question": "保険は？"})
        assert status == 429 and "待って" in json.loads(body)["error"]
