"""Bad input on the Colab paths: each gets a clear status or close reason, and the server
stays up. In process, against the same handlers a real server runs."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from urllib.parse import quote

import pytest
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.httpclient import HTTPClientError

from colab_local.http_over_ws import handlers
from tests_support import colab_client as colab

EVIL = "https://evil.example"


async def assert_server_up(http_root, token):
    assert await colab.tunnel_status(http_root, token) == 200


async def new_session(http_root, token, name="hardening.ipynb"):
    tunnel = await colab.open_tunnel(http_root, token)
    try:
        created = await tunnel.request("POST", "/api/sessions", colab.session_body(name))
    finally:
        tunnel.close()
    assert created.status == 201
    return created.json()


# Foreign origins.


async def test_foreign_origin_is_refused_on_the_proxied_socket(http_root, token):
    with pytest.raises(HTTPClientError) as refused:
        await colab.open_ws(
            f"{colab.ws_root(http_root)}http_over_websocket/proxied_ws/api/kernels/k/channels"
            f"?session_id=s&jupyter_http_over_ws_auth_url={colab.auth_url(http_root, token)}",
            origin=EVIL,
        )
    assert refused.value.code == 403
    await assert_server_up(http_root, token)


async def test_foreign_origin_is_refused_on_the_kernel_socket(http_root, token):
    """Cross-site WebSocket hijacking: a foreign page riding the user's login cookie.

    (A client that presents the token itself may connect from any origin: in Jupyter the
    token is the proof, so origin checks guard cookie-authenticated requests.)
    """
    session = await new_session(http_root, token)
    login = await colab.direct_fetch(http_root, "", token, origin=None, follow_redirects=False)
    cookie = "; ".join(c.split(";", 1)[0] for c in login.headers.get_list("Set-Cookie"))
    assert "username-" in cookie
    url = f"{colab.ws_root(http_root)}api/kernels/{session['kernel']['id']}/channels?session_id=s"
    with pytest.raises(HTTPClientError) as refused:
        await colab.open_ws(url, origin=EVIL, Cookie=cookie)
    assert refused.value.code == 403
    allowed = await colab.open_ws(url, origin=colab.COLAB_ORIGIN, Cookie=cookie)
    allowed.close()


async def test_foreign_origin_on_the_diagnose_socket_is_refused(http_root):
    with pytest.raises(HTTPClientError) as refused:
        await colab.open_ws(f"{colab.ws_root(http_root)}http_over_websocket/diagnose", origin=EVIL)
    assert refused.value.code == 403


# Missing or wrong token.


@pytest.mark.parametrize("given", [None, "wrong-token"])
async def test_direct_rest_without_the_right_token_is_403(http_root, given):
    response = await colab.direct_fetch(http_root, "api/sessions", given)
    assert response.code == 403


async def test_proxied_socket_with_a_wrong_token_closes_with_a_reason(http_root, token):
    session = await new_session(http_root, token)
    ws = await colab.open_proxied_kernel(
        http_root, "wrong-token", session["kernel"]["id"], "s", ready=False
    )
    assert await ws.read_message() is None
    assert ws.close_code == handlers.NOT_AUTHORIZED == 403  # upstream: the relayed status
    assert "not valid" in ws.close_reason
    await assert_server_up(http_root, token)


async def test_proxied_socket_without_credentials_gets_jupyters_refusal(http_root, token):
    session = await new_session(http_root, token)
    url = (
        f"{colab.ws_root(http_root)}http_over_websocket/proxied_ws/api/kernels/"
        f"{session['kernel']['id']}/channels?session_id=s"
    )
    ws = await colab.open_ws(url)
    assert await ws.read_message() is None
    assert ws.close_code == 403


async def test_proxied_socket_to_an_unknown_path_closes_with_404(http_root, token):
    url = (
        f"{colab.ws_root(http_root)}http_over_websocket/proxied_ws/no/such/socket"
        f"?jupyter_http_over_ws_auth_url={quote(colab.auth_url(http_root, token))}"
    )
    ws = await colab.open_ws(url)
    assert await ws.read_message() is None
    assert ws.close_code == 404  # as upstream


# The auth URL: its token is checked in process; nothing is ever fetched.


@pytest.fixture
def bystander():
    """A listener on another loopback port that must never see a connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    try:
        yield listener.getsockname()[1], listener
    finally:
        listener.close()


def assert_never_contacted(listener):
    with pytest.raises(BlockingIOError):
        listener.accept()


@pytest.mark.parametrize(
    "auth",
    [
        "http://127.0.0.1:{other}/?token={token}",
        "http://localhost:{other}/?token={token}",
        "http://localhost:{port}@127.0.0.1:{other}/?token={token}",
        "http://user:pass@localhost:{port}/?token={token}",
        "file:///etc/passwd",
        "//127.0.0.1:{other}/",
        "http://localhost:{port}:{other}/?token={token}",
        "http://[::1/?token={token}",
    ],
)
async def test_auth_url_not_naming_where_the_client_came_in_is_refused(
    http_root, token, jp_http_port, bystander, auth
):
    other, listener = bystander
    auth = auth.format(other=other, port=jp_http_port, token=token)
    response = await colab.tunnel_get(http_root, token, auth=auth)
    assert response.status == 500  # upstream's status for an auth URL it refuses
    assert "must be the URL this server was reached at" in response.status_text
    assert_never_contacted(listener)


@pytest.mark.parametrize("host", ["127.0.0.1:{other}", "localhost:{other}", "[::1]:{other}"])
async def test_spoofed_host_and_auth_url_reach_nothing_and_need_the_token(
    http_root, token, bystander, host
):
    """The Host header (and an auth URL matching it) is only where the client says it
    came in: the token decides, in process, and nothing connects to that port."""
    other, listener = bystander
    host = host.format(other=other)
    for given, expected in (("wrong-token", 403), (token, 200)):
        tunnel = await colab.open_tunnel(
            http_root, given, auth=f"http://{host}/?token={given}", headers={"Host": host}
        )
        try:
            assert (await tunnel.request("GET", "/api/sessions")).status == expected
        finally:
            tunnel.close()
        proxied = await colab.open_ws(
            f"{colab.ws_root(http_root)}http_over_websocket/proxied_ws/api/kernels/nope/channels"
            f"?jupyter_http_over_ws_auth_url={quote(f'http://{host}/?token={given}')}",
            Host=host,
        )
        assert await proxied.read_message() is None
        assert proxied.close_code == (403 if given != token else 404)
    assert_never_contacted(listener)


@pytest.fixture
def hanging_page(jp_serverapp, jp_base_url):
    """A page on this server that never answers; counts its requests."""
    never = asyncio.Event()
    requested = []

    class Hang(web.RequestHandler):
        async def get(self):
            requested.append(self.request.uri)
            await never.wait()

    jp_serverapp.web_app.add_handlers(".*$", [(url_path_join(jp_base_url, "hang"), Hang)])
    yield "hang", requested
    never.set()


async def test_the_auth_url_is_never_requested(http_root, token, hanging_page):
    path, requested = hanging_page
    for auth_path in (f"{path}?", "no-such-page?", "login?next=http%3A%2F%2F127.0.0.1%3A1%2F&"):
        auth = f"{http_root}{auth_path}token={token}"
        response = await asyncio.wait_for(colab.tunnel_get(http_root, token, auth=auth), 10)
        assert response.status == 200
    assert requested == []


async def test_cookies_authenticate_without_an_auth_url_as_upstream(http_root, token):
    login = await colab.direct_fetch(http_root, "", token, origin=None, follow_redirects=False)
    cookie = "; ".join(c.split(";", 1)[0] for c in login.headers.get_list("Set-Cookie"))
    xsrf = await colab.direct_fetch(http_root, "login", None, origin=None)
    cookie += "; " + next(
        c.split(";", 1)[0] for c in xsrf.headers.get_list("Set-Cookie") if c.startswith("_xsrf")
    )
    query = "min_version=0.0.7"
    ws = await colab.open_ws(
        f"{colab.ws_root(http_root)}http_over_websocket?{query}", Cookie=cookie
    )
    tunnel = colab.Tunnel(ws, http_root)
    try:
        assert (await tunnel.request("GET", "/api/sessions")).status == 200
        # An unsafe method passes Jupyter's XSRF check with the _xsrf cookie as argument.
        created = await tunnel.request("POST", "/api/sessions", colab.session_body("c.ipynb"))
        assert created.status == 201, created.body
    finally:
        tunnel.close()
    bare = await colab.open_ws(f"{colab.ws_root(http_root)}http_over_websocket?{query}")
    tunnel = colab.Tunnel(bare, http_root)
    try:
        assert (await tunnel.request("GET", "/api/sessions")).status == 403
    finally:
        tunnel.close()


# Tunnelled requests that try to leave the server or smuggle data.


BAD_MESSAGES = {
    "absolute URL": {"method": "GET", "path": "http://evil.example/x"},
    "scheme-relative URL": {"method": "GET", "path": "//evil.example/x"},
    "relative path": {"method": "GET", "path": "api/status"},
    "CR/LF in path": {"method": "GET", "path": "/api/status\r\nX-Injected: 1"},
    "space in path": {"method": "GET", "path": "/api/status HTTP/1.1"},
    "backslash in path": {"method": "GET", "path": "/\\evil.example"},
    "CR/LF in method": {"method": "GET\r\nX-Injected: 1", "path": "/api/status"},
    "method not a token": {"method": "GE T", "path": "/api/status"},
    "unknown method": {"method": "CONNECT", "path": "/api/status"},
    "method not a string": {"method": 7, "path": "/api/status"},
    "path not a string": {"method": "GET", "path": ["/api/status"]},
    "body not a string": {"method": "POST", "path": "/api/sessions", "body": {"a": 1}},
    "body_base64 not base64": {"method": "POST", "path": "/api/sessions", "body_base64": "@@@"},
    "lone surrogate in path": {"method": "GET", "path": "/api/\ud800"},
    "lone surrogate in body": {"method": "POST", "path": "/api/sessions", "body": "\udc00"},
    "body_base64 not a string": {"method": "POST", "path": "/api/sessions", "body_base64": 3},
}


@pytest.mark.parametrize("fields", BAD_MESSAGES.values(), ids=BAD_MESSAGES.keys())
async def test_bad_tunnel_message_gets_400_and_the_connection_keeps_working(
    http_root, token, fields
):
    tunnel = await colab.open_tunnel(http_root, token)
    try:
        message_id = uuid.uuid4().hex
        tunnel.send_raw(json.dumps({"message_id": message_id, **fields}))
        answer = await tunnel.read_response()
        assert answer.status == 400
        assert answer.messages[0]["message_id"] == message_id
        assert answer.status_text
        assert (await tunnel.request("GET", "/api/status")).status == 200
    finally:
        tunnel.close()


@pytest.mark.parametrize(
    "raw", ["[1, 2]", '"text"', "null", '{"message_id": true, "method": "GET", "path": "/"}']
)
async def test_message_of_the_wrong_shape_gets_400(http_root, token, raw):
    tunnel = await colab.open_tunnel(http_root, token)
    try:
        tunnel.send_raw(raw)
        assert (await tunnel.read_response()).status == 400
        assert (await tunnel.request("GET", "/api/status")).status == 200
    finally:
        tunnel.close()


@pytest.mark.parametrize("jp_argv", [["--ColabLocal.max_message_size=4096"]])
async def test_oversized_message_is_refused_by_the_limit(http_root, token):
    tunnel = await colab.open_tunnel(http_root, token)
    tunnel.send_raw(
        json.dumps({"message_id": "big", "method": "POST", "path": "/api/x", "body": "x" * 10_000})
    )
    assert await tunnel.ws.read_message() is None
    assert tunnel.ws.close_code == 1009  # "message too big"
    await assert_server_up(http_root, token)


async def test_an_identity_provider_that_fails_leaves_the_client_unauthenticated(
    jp_serverapp, http_root, token, monkeypatch, caplog
):
    """E.g. a hub that cannot be asked about a token: the tunnel client is treated as one
    without the token, rather than the upgrade failing."""
    checks_tokens = jp_serverapp.identity_provider.get_user

    def fails_on_tokens(handler):
        if "Authorization" in handler.request.headers:
            raise RuntimeError("the hub is away")
        return checks_tokens(handler)

    monkeypatch.setattr(jp_serverapp.identity_provider, "get_user", fails_on_tokens)
    tunnel = await colab.open_tunnel(http_root, token)  # the upgrade itself still succeeds
    try:
        # Small limit of an unauthenticated client: a 2 MiB message closes the socket.
        tunnel.send_raw(json.dumps({"message_id": 1, "method": "GET", "path": "/" + "x" * 2**21}))
        assert await tunnel.ws.read_message() is None
        assert tunnel.ws.close_code == 1009
    finally:
        tunnel.close()
    assert any(
        "cannot identify a tunnel client: the hub is away" in r.message for r in caplog.records
    )
