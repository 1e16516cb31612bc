"""The served dashboard answers only its own Host names (DNS rebinding): a page, the health check and
the WebSocket with a foreign Host get 400; 127.0.0.1 and localhost work."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("path", ["/", "/_stcore/health", "/command"])
def test_a_foreign_host_is_refused(app_url, path):
    assert httpx.get(f"{app_url}{path}", headers={"Host": "rebind.example.com"}).status_code == 400
    assert httpx.get(f"{app_url}{path}", headers={"Host": "rebind.example.com:8501"}).status_code == 400


def test_the_own_names_are_answered(app_url):
    port = app_url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert httpx.get(f"{app_url}/", headers={"Host": host}).status_code == 200


def test_a_websocket_with_a_foreign_host_and_matching_origin_is_refused(app_url):
    """The rebinding case: the browser sends Origin = Host = the attacker's name."""
    headers = {
        "Host": "rebind.example.com",
        "Origin": "http://rebind.example.com",
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "streamlit",
    }
    refused = httpx.get(f"{app_url}/_stcore/stream", headers=headers)
    assert refused.status_code == 400
    own = {**headers, "Host": app_url.removeprefix("http://"), "Origin": str(app_url)}
    with httpx.stream("GET", f"{app_url}/_stcore/stream", headers=own) as accepted:
        assert accepted.status_code == 101
