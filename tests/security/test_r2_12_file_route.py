"""#19-12: /gradio_api/file=<url> fetched URLs (loopback was refused, which showed the route was
live; with DNS resolving elsewhere it returned the remote file)."""

from helpers import http


def test_the_file_route_never_fetches_a_url(keyed_app):
    for target in ("http://127.0.0.2:9/x.png", "https://example.invalid/a.pdf", "//example.invalid/a", "HTTP://127.0.0.1:1/", "ftp://x/y"):
        status, _, body = http("GET", keyed_app.url + "gradio_api/file=" + target)
        assert status == 404 and "取り寄せません" in body.decode("utf-8"), (target, status)
