"""20 simultaneous users on loopback: bounded requests, and not one may fail."""

from conftest import serve_app


def test_twenty_concurrent_users_get_answers(home, assistant):
    import load  # bench/load.py, put on the path by serve_app

    for url in serve_app(home):
        result = load.run(url, users=20, questions=2)
    assert result["requests"] == 40
    assert result["failures"] == 0, result["failure_samples"]
