"""20 simultaneous users on loopback, through the page's protocol (as the browser speaks it, and through gradio_client) and the REST API: bounded requests, not one may fail."""

import sys

from conftest import ROOT, serve_app


def test_twenty_concurrent_users_get_answers(home, assistant):
    sys.path.insert(0, str(ROOT / "bench"))  # alone, this test must find bench/load.py itself
    import load

    for url in serve_app(home, ASSISTANT_ASKS_PER_MINUTE="100000"):
        for mode in ("page", "gradio", "rest"):
            result = load.run(url, users=20, questions=2, mode=mode)
            assert result["requests"] == 40
            assert result["failures"] == 0, result["failure_samples"]
