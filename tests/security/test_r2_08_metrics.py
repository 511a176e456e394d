"""#19-8: /metrics grew without bound: the raw path was a label, and 2,000 requests to
/api/<random> grew it to 16 MB; with the access token on, /loginXYZ paths still added series."""

import uuid

from helpers import http


def test_route_labels_come_from_a_fixed_set():
    from assistant.middleware import route_label

    assert route_label("/api/v1/ask") == "/api/v1/ask"
    assert route_label("/api/" + uuid.uuid4().hex) == "/api/other"
    assert route_label("/loginXYZ") == "/"
    assert route_label("/download/abc") == "/download/{token}"
    assert route_label("/gradio_api/queue/data") == "/gradio_api/other"


def test_random_paths_add_no_series(keyed_app):
    before = http("GET", keyed_app.url + "metrics")[2]
    for _ in range(300):
        http("GET", keyed_app.url + "api/" + uuid.uuid4().hex)
        http("POST", keyed_app.url + "x" + uuid.uuid4().hex, {"a": 1})
    after = http("GET", keyed_app.url + "metrics")[2].decode()
    series = [line for line in after.splitlines() if line.startswith("tics_http_requests_total")]
    assert len(series) < 40, series[:5]
    assert len(after) < len(before) + 4000
