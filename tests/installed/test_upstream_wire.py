"""Upstream's wire behaviour, black-box, against a real ``jupyter notebook``.

googlecolab/jupyter_http_over_ws pins what clients see in
``jupyter_http_over_ws/handlers_test.py``; Colab's frontend is closed source and may act
on any of it. Each upstream case is ported here under its own name (``test_<upstream
name>``), over HTTP and HTTPS as upstream runs them, against a real server with
colab-local installed and upstream's fake endpoints served by ``tests_support.upstream_fakes``.

Where the outcome differs on purpose, the test says so and asserts the deliberate one
(listed in the README's Security section):
- ``test_proxied_nonstandard_method``: methods are an allow-list, so 400, not 200;
- auth URLs: nothing is fetched, so "the cookies the auth URL set" become "the token the
  auth URL carries, checked in process"; a refused auth URL keeps upstream's 500 (tunnel)
  and close code 500 (relayed socket), with a reason that says why.
Upstream's two programming-error cases inject a broken HTTP client, which no black-box
test can; they are ported in process (``test_tunnel.py``).
"""

from __future__ import annotations

import base64
import json
import subprocess
from urllib.parse import urlencode

import pytest
from tornado.httpclient import HTTPClientError

from tests_support import colab_client as colab
from tests_support.server_process import isolated_env, running_server
from tests_support.topology import TESTS_DIR
from tests_support.upstream_fakes import PREFIX, TEST_XSRF_HEADER

pytestmark = [pytest.mark.installed, pytest.mark.usefixtures("each_test_checks_its_log")]

WHITELISTED_ORIGIN = colab.COLAB_ORIGIN  # the server's allow_origin
FAKE_XSRF_VALUE = "some-xsrf-token"


@pytest.fixture(scope="module", params=["http", "https"])
def server(request, tmp_path_factory):
    home = tmp_path_factory.mktemp(request.param)
    args = [
        '--ServerApp.jpserver_extensions={"tests_support.upstream_fakes": True}',
        # The fakes, beside Jupyter's own WebSockets, may be relayed (the default allows
        # only Jupyter's).
        "--ColabLocal.relayed_websockets=api/kernels/[^/?]+/channels",
        f"--ColabLocal.relayed_websockets={PREFIX}/.*",
    ]
    if request.param == "https":
        key, cert = home / "key.pem", home / "cert.pem"
        self_signed = [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ]
        subprocess.run(
            ["openssl", *self_signed, "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        args += [f"--certfile={cert}", f"--keyfile={key}"]
    with running_server(home, *args, env=isolated_env(home, PYTHONPATH=TESTS_DIR)) as process:
        yield process


def ws_url(server, path, **query):
    url = f"{colab.ws_root(server.http_root)}{path}"
    return f"{url}?{urlencode(query)}" if query else url


def auth_url(server, token=None):
    return colab.auth_url(server.http_root, server.token if token is None else token)


def request_json(path, message_id, method="GET", body=None, body_base64=None):
    request = {"path": path, "message_id": message_id, "method": method}
    if body is not None:
        request["body"] = body
    if body_base64 is not None:
        request["body_base64"] = body_base64
    return json.dumps(request)


async def tunnel(server, origin=None, **query):
    return await colab.open_ws(ws_url(server, "http_over_websocket", **query), origin=origin)


async def answer(client):
    return json.loads(await client.read_message())


def data(response):
    return base64.b64decode(response["data"]).decode("utf-8")


FAKE = f"/{PREFIX}"

# /http_over_websocket


async def test_proxied_get(server):
    client = await tunnel(server)
    client.write_message(request_json(f"{FAKE}/sessions", "1234"))
    response = await answer(client)
    assert response["status"] == 200
    assert data(response) == "ok"
    assert response["message_id"] == "1234"
    assert response["done"] is True


async def test_proxied_get_empty_body(server):
    client = await tunnel(server)
    client.write_message(request_json(f"{FAKE}/sessions", "1234", body=""))
    response = await answer(client)
    assert (response["status"], data(response), response["message_id"]) == (200, "ok", "1234")
    assert response["done"] is True


async def test_proxied_post_no_body(server):
    client = await tunnel(server)
    client.write_message(request_json(f"{FAKE}/sessions", "1234", body=None))
    response = await answer(client)
    assert (response["status"], data(response), response["message_id"]) == (200, "ok", "1234")
    assert response["done"] is True


async def test_proxied_post_base64_body(server):
    client = await tunnel(server)
    encoded = base64.b64encode(b"the_data").decode("utf-8")
    client.write_message(
        request_json(f"{FAKE}/sessions", "1234", method="POST", body_base64=encoded)
    )
    response = await answer(client)
    assert (response["status"], data(response), response["message_id"]) == (
        200,
        "the_data",
        "1234",
    )
    assert response["done"] is True


async def test_proxied_nonstandard_method(server):
    """Deliberate hardening: upstream relays any method (200 here); colab-local serves
    the methods of Jupyter's API only, and says so with a 400."""
    client = await tunnel(server)
    client.write_message(request_json(f"{FAKE}/sessions", "1234", method="CUSTOMMETHOD"))
    response = await answer(client)
    assert response["status"] == 400
    assert "method must be one of" in response["statusText"]
    assert response["message_id"] == "1234"
    assert response["done"] is True


async def test_streamed_response(server):
    client = await tunnel(server)
    client.write_message(request_json(f"{FAKE}/streamedresponse", "1234"))
    first = await answer(client)
    assert first["status"] == 200
    assert first["message_id"] == "1234"
    assert data(first) == "first"
    assert first["done"] is False
    second = await answer(client)
    assert "status" not in second
    assert "statusText" not in second
    assert "headers" not in second
    assert second["message_id"] == "1234"
    assert data(second) == "last"
    assert second["done"] is True


async def test_request_for_invalid_url(server):
    client = await tunnel(server)
    client.write_message(request_json("/invalid/path", "1234"))
    response = await answer(client)
    assert (response["status"], response["message_id"], response["done"]) == (404, "1234", True)


async def test_proxied_endpoint_has_error(server):
    client = await tunnel(server)
    client.write_message(request_json(f"{FAKE}/sessions?throw_500=1", "1234"))
    response = await answer(client)
    assert response["status"] == 500
    assert response["statusText"] == "Server error"
    assert (response["message_id"], response["done"]) == ("1234", True)


async def test_unwhitelisted_cross_domain_origin(server):
    with pytest.raises(HTTPClientError) as e:
        await tunnel(server, origin="http://www.example.com")
    assert e.value.code == 403


async def test_whitelisted_cross_domain_origin(server):
    client = await tunnel(server, origin=WHITELISTED_ORIGIN)
    assert client is not None
    client.close()


async def test_propagates_body_text_and_xsrf(server):
    client = await colab.open_ws(
        ws_url(server, "http_over_websocket"), origin=None, Cookie=f"_xsrf={FAKE_XSRF_VALUE}"
    )
    client.write_message(request_json(f"{FAKE}/sessions", "1234", method="POST", body="somedata"))
    response = await answer(client)
    assert (response["status"], data(response), response["message_id"]) == (
        200,
        "somedata",
        "1234",
    )
    assert response["headers"][TEST_XSRF_HEADER] == FAKE_XSRF_VALUE
    assert response["done"] is True


async def test_auth_url_provided_forwards_cookies_and_propagates_xsrf(server):
    """Upstream: the auth URL's cookies and _xsrf make a POST succeed. Here the auth URL's
    token does (token-authenticated requests need no _xsrf): a real POST that Jupyter
    guards by login and XSRF succeeds, and the body arrives."""
    client = await tunnel(server, jupyter_http_over_ws_auth_url=auth_url(server))
    client.write_message(request_json(f"{FAKE}/sessions", "1234", method="POST", body="somedata"))
    response = await answer(client)
    assert (response["status"], data(response), response["message_id"]) == (
        200,
        "somedata",
        "1234",
    )
    assert response["done"] is True
    body = json.dumps(colab.session_body("wire.ipynb"))
    client.write_message(request_json("/api/sessions", "5678", method="POST", body=body))
    created = await colab.read_response(client)
    assert created.status == 201
    assert {m["message_id"] for m in created.messages} == {"5678"}
    client.close()


async def test_max_chunk_size_64k(server):
    client = await tunnel(server)
    client.write_message(request_json(f"{FAKE}/largeresponse", "1234"))
    received = 0
    while True:
        response = await answer(client)
        assert response["message_id"] == "1234"
        chunk = base64.b64decode(response["data"])
        assert len(chunk) <= 65536
        received += len(chunk)
        if response.get("done"):
            break
    assert received == 100000


async def test_bad_json(server):
    client = await tunnel(server)
    client.write_message("invalid json")
    response = await answer(client)
    assert response["status"] == 400
    assert response["statusText"] == "JSON input is required."
    assert response["done"] is True


async def test_missing_param(server):
    client = await tunnel(server)
    client.write_message('{"path": "/api/sessions", "method": "GET"}')
    response = await answer(client)
    assert response["status"] == 400
    assert "body must contain" in response["statusText"]
    assert response["done"] is True


async def test_invalid_protocol_version_requested(server):
    client = await tunnel(server, min_version="abc")
    assert await client.read_message() is None
    assert client.close_code == 400
    assert client.close_reason == 'Invalid "min_version" provided: abc'


async def test_newer_protocol_version_requested(server):
    mark = server.log_mark()
    client = await tunnel(server, min_version="9.0.0")
    assert await client.read_message() is None
    assert client.close_code == 400
    assert "Please upgrade" in client.close_reason
    assert "Rejecting connection: Requested version (9.0.0)" in server.log_after(mark)


@pytest.mark.parametrize("min_version", ["0.0.1a0", "0.0.1a3"], ids=["valid", "current"])
async def test_valid_and_current_version_requested(server, min_version):
    """Upstream's test_valid_version_requested and test_current_version_requested."""
    client = await tunnel(server, min_version=min_version)
    client.write_message("abc")
    response = await client.read_message()
    assert response is not None  # the connection is alive
    assert json.loads(response)["status"] == 400


async def test_auth_url_provided_forwards_cookies(server):
    """Upstream: the auth URL's cookies authenticate the tunnelled request. Here its
    token does, checked in process: a request Jupyter guards by login succeeds with the
    right token and gets Jupyter's 403 with a wrong one."""
    for token, expected in ((server.token, 200), ("wrong", 403)):
        client = await tunnel(server, jupyter_http_over_ws_auth_url=auth_url(server, token))
        client.write_message(request_json("/api/sessions", "1234"))
        response = await colab.read_response(client)
        client.close()
        assert response.status == expected
        assert {m["message_id"] for m in response.messages} == {"1234"}


async def test_auth_url_provided_fails(server):
    """Upstream: an auth URL that fails answers 500 with this text. Here an auth URL
    fails when it cannot name this server (a malformed port): the same 500, message id
    and done flag; the reason says what is wrong."""
    bad = server.http_root.replace(f":{server.port}/", ":notaport/") + "?token=x"
    client = await tunnel(server, jupyter_http_over_ws_auth_url=bad)
    client.write_message(request_json(f"{FAKE}/sessions", "1234"))
    response = await answer(client)
    assert response["message_id"] == "1234"
    assert response["status"] == 500
    assert "must be the URL this server was reached at" in response["statusText"]
    assert response["done"] is True


def cross_domain_auth_urls(server):
    url = auth_url(server)
    cross_protocol = (
        url.replace("https://", "http://")
        if url.startswith("https://")
        else url.replace("http://", "https://")
    )
    return [cross_protocol, url.replace("localhost", "www.example.com")]


async def test_auth_url_cross_domain_fails(server):
    for auth in cross_domain_auth_urls(server):
        client = await tunnel(server, jupyter_http_over_ws_auth_url=auth)
        client.write_message(request_json(f"{FAKE}/sessions", "1234"))
        response = await answer(client)
        assert response["message_id"] == "1234"
        assert response["status"] == 500
        assert response["done"] is True
        client.close()


# /http_over_websocket/diagnose


async def test_diagnostic_handler_unwhitelisted_cross_domain_origin(server):
    with pytest.raises(HTTPClientError) as e:
        await colab.open_ws(
            ws_url(server, "http_over_websocket/diagnose"), origin="http://www.example.com"
        )
    assert e.value.code == 403


@pytest.mark.parametrize(
    ("min_version", "cookie", "expected"),
    [
        ("0.0.7", True, {"has_authentication_cookie": True, "is_outdated_extension": False}),
        (None, False, {"has_authentication_cookie": False, "is_outdated_extension": False}),
        ("0.0.8", True, {"has_authentication_cookie": True, "is_outdated_extension": True}),
    ],
    ids=["no_problems_request", "missing_xsrf_cookie", "newer_protocol_version_requested"],
)
async def test_diagnostic_handler(server, min_version, cookie, expected):
    """Upstream's three test_diagnostic_handler_* answer cases."""
    query = {"min_version": min_version} if min_version else {}
    headers = {"Cookie": f"_xsrf={FAKE_XSRF_VALUE}"} if cookie else {}
    client = await colab.open_ws(
        ws_url(server, "http_over_websocket/diagnose", **query),
        origin=WHITELISTED_ORIGIN,
        **headers,
    )
    client.write_message("1")
    assert json.loads(await client.read_message()) == {
        "message_id": "1",
        "extension_version": "0.0.7",
        **expected,
    }
    client.close()


# /http_over_websocket/proxied_ws/...


def proxied(server, path, **query):
    """A relayed socket's URL. With the token in the auth URL unless the case gives its own:
    the relay opens nothing for a client that has not proved it (upstream relayed anyone)."""
    query.setdefault("jupyter_http_over_ws_auth_url", auth_url(server))
    return ws_url(server, f"http_over_websocket/proxied_ws/{path}", **query)


async def test_proxied_unwhitelisted_cross_domain_origin(server):
    """Upstream's _ProxiedSocketHandlerTestBase.test_unwhitelisted_cross_domain_origin."""
    with pytest.raises(HTTPClientError) as e:
        await colab.open_ws(
            ws_url(server, f"http_over_websocket/proxied_ws/{PREFIX}/echoing-ws"),
            origin="http://www.example.com",
        )
    assert e.value.code == 403


async def test_proxied_auth_url_provided_forwards_cookies(server):
    """Upstream: the auth URL's cookies reach the relayed socket. Here its token does:
    a kernel channel (which Jupyter guards by login) opens and runs code."""
    created = await colab.direct_fetch(
        server.http_root,
        "api/sessions",
        server.token,
        method="POST",
        body=colab.session_body("proxied.ipynb"),
    )
    kernel_id = json.loads(created.body)["kernel"]["id"]
    channel = await colab.open_proxied_kernel(server.http_root, server.token, kernel_id, "s")
    try:
        assert await colab.execute(channel, "print('relayed')", "s") == "relayed\n"
    finally:
        channel.close()


async def test_proxied_auth_url_provided_fails(server):
    """Upstream: close code 500 when the auth URL fails; here when it cannot name this
    server (a malformed port)."""
    bad = server.http_root.replace(f":{server.port}/", ":notaport/") + "?token=x"
    client = await colab.open_ws(
        proxied(server, f"{PREFIX}/echoing-ws", jupyter_http_over_ws_auth_url=bad)
    )
    assert await client.read_message() is None
    assert client.close_code == 500


async def test_proxied_auth_url_cross_domain_fails(server):
    for auth in cross_domain_auth_urls(server):
        client = await colab.open_ws(
            proxied(server, f"{PREFIX}/echoing-ws", jupyter_http_over_ws_auth_url=auth)
        )
        assert await client.read_message() is None
        assert client.close_code == 500


async def test_proxied_connection_io(server):
    client = await colab.open_ws(
        proxied(server, f"{PREFIX}/echoing-ws", someparam="1"),
        origin=WHITELISTED_ORIGIN,
        **{"X-Echo-Header": "example"},
    )
    assert (
        await client.read_message()
        == f"<ECHO INIT> GET /{PREFIX}/echoing-ws?someparam=1 X-Echo-Header: example"
    )
    client.write_message("1")
    assert await client.read_message() == "<ECHO RESPONSE> 1"
    client.write_message("something else!")
    assert await client.read_message() == "<ECHO RESPONSE> something else!"
    client.write_message(b"\x00\xff", binary=True)  # binary stays binary (upstream: text)
    assert await client.read_message() == b"<ECHO RESPONSE> \x00\xff"
    client.close()


async def test_proxied_connection_closed(server):
    client = await colab.open_ws(
        proxied(server, f"{PREFIX}/close-on-first-message-ws"), origin=WHITELISTED_ORIGIN
    )
    client.write_message("")
    assert await client.read_message() is None
    assert client.close_code == 500


async def test_unknown_path(server):
    client = await colab.open_ws(proxied(server, "unknown-path"), origin=WHITELISTED_ORIGIN)
    assert await client.read_message() is None
    assert client.close_code == 404
