"""20 simultaneous users on loopback: bounded requests, and not one may fail."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))


def test_twenty_concurrent_users_get_answers(home, assistant):
    import load

    proc, url = load.start_app(home)
    try:
        result = load.run(url, users=20, questions=2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert result["requests"] == 40
    assert result["failures"] == 0, result["failure_samples"]
