"""20 simultaneous users on loopback, through the page's API and the REST API: bounded requests, not one may fail."""

from conftest import serve_app


def test_twenty_concurrent_users_get_answers(home, assistant):
    import load  # bench/load.py, put on the path by serve_app

    for url in serve_app(home, ASSISTANT_ASKS_PER_MINUTE="100000"):
        for mode in ("gradio", "rest"):
            result = load.run(url, users=20, questions=2, mode=mode)
            assert result["requests"] == 40
            assert result["failures"] == 0, result["failure_samples"]
