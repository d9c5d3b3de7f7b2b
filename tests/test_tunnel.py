"""The HTTP-over-WebSocket endpoints, in process: Colab's legacy flow and its bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from urllib.parse import quote

import pytest
from jupyter_server.services.kernels.connection.base import (
    deserialize_msg_from_ws_v1,
    serialize_msg_to_ws_v1,
)
from tornado import httpclient, websocket
from tornado.httpclient import HTTPClientError

from colab_local.http_over_ws import handlers
from colab_local.http_over_ws.handlers import PROTOCOL_VERSION, close_reason, without_query_param
from tests_support import colab_client as colab

pytestmark = pytest.mark.usefixtures("jp_serverapp")

V1 = "v1.kernel.websocket.jupyter.org"


async def test_endpoints_are_registered(jp_serverapp, jp_base_url):
    paths = {
        rule.matcher.regex.pattern
        for host_rule in jp_serverapp.web_app.default_router.rules
        for rule in getattr(host_rule.target, "rules", [])
    }
    for path in (
        "http_over_websocket",
        "http_over_websocket/diagnose",
        "http_over_websocket/proxied_ws/.+",
    ):
        assert f"{jp_base_url}{path}$" in paths


async def test_diagnose_answers_with_protocol_version(http_root):
    ws = await colab.open_ws(
        f"{colab.ws_root(http_root)}http_over_websocket/diagnose?min_version=0.0.7"
    )
    ws.write_message("probe-1")
    answer = json.loads(await ws.read_message())
    ws.close()
    assert answer == {
        "message_id": "probe-1",
        "extension_version": PROTOCOL_VERSION,
        "has_authentication_cookie": False,
        "is_outdated_extension": False,
    }
    assert PROTOCOL_VERSION == "0.0.7"


async def test_legacy_flow_runs_code_on_a_kernel(http_root, token):
    tunnel = await colab.open_tunnel(http_root, token)
    specs = await tunnel.request("GET", "/api/kernelspecs")
    assert specs.status == 200
    assert "python3" in specs.json()["kernelspecs"]

    created = await tunnel.request("POST", "/api/sessions", colab.session_body("legacy.ipynb"))
    assert created.status == 201, created.body
    session = created.json()
    kernel = await colab.open_proxied_kernel(
        http_root, token, session["kernel"]["id"], uuid.uuid4().hex
    )
    assert await colab.execute(kernel, "print(6 * 7)", uuid.uuid4().hex) == "42\n"
    kernel.close()

    deleted = await tunnel.request("DELETE", f"/api/sessions/{session['id']}")
    assert deleted.status == 204
    listed = await tunnel.request("GET", "/api/sessions")
    assert listed.json() == []
    tunnel.close()


async def test_tunnel_downloads_files_as_the_user_does(http_root, token, jp_root_dir):
    (jp_root_dir / "data.bin").write_bytes(bytes(range(256)) * 1000)
    tunnel = await colab.open_tunnel(http_root, token)
    files = await tunnel.request("GET", "/files/data.bin")
    tunnel.close()
    assert files.status == 200
    assert files.body == bytes(range(256)) * 1000
    assert len(files.messages) > 1  # streamed in chunks, last one marked done
    assert [m.get("done") for m in files.messages][-1] is True


async def test_wrong_token_in_auth_url_gets_403(http_root):
    tunnel = await colab.open_tunnel(http_root, "not-the-token")
    response = await tunnel.request("GET", "/api/sessions")
    tunnel.close()
    assert response.status == 403


async def test_malformed_json_and_missing_path_get_400_and_connection_keeps_working(
    http_root, token
):
    tunnel = await colab.open_tunnel(http_root, token)
    tunnel.send_raw("{not json")
    bad_json = await tunnel.read_response()
    assert (bad_json.status, bad_json.status_text) == (400, "JSON input is required.")

    tunnel.send_raw(json.dumps({"message_id": "m-1", "method": "GET"}))
    missing_path = await tunnel.read_response()
    assert missing_path.status == 400
    assert missing_path.messages[0]["message_id"] == "m-1"
    assert "path" in missing_path.status_text

    still_working = await tunnel.request("GET", "/api/kernelspecs")
    tunnel.close()
    assert still_working.status == 200


async def test_foreign_origin_is_refused_on_the_tunnel(http_root, token):
    with pytest.raises(HTTPClientError) as refused:
        await colab.open_tunnel(http_root, token, origin="https://evil.example")
    assert refused.value.code == 403


@pytest.mark.parametrize(
    "auth",
    [
        "http://localhost:1/?token={token}",
        "http://127.0.0.2:{port}/?token={token}",
        "https://localhost:{port}/?token={token}",
        "http://localhost:{port}@evil.example/?token={token}",
    ],
)
async def test_auth_url_on_another_server_is_refused(http_root, token, jp_http_port, auth):
    auth = auth.format(token=token, port=jp_http_port)
    response = await colab.tunnel_get(http_root, token, "/api/kernelspecs", auth=auth)
    assert response.status == 500  # upstream's status for an auth URL it refuses
    assert "must be the URL this server was reached at" in response.status_text


async def test_refused_auth_url_closes_the_proxied_socket_with_a_reason(http_root, token):
    query = "session_id=s&jupyter_http_over_ws_auth_url=http%3A%2F%2Fevil.example%2F%3Ftoken%3Dx"
    ws = await colab.open_ws(
        f"{colab.ws_root(http_root)}http_over_websocket/proxied_ws/api/kernels/k/channels?{query}"
    )
    assert await ws.read_message() is None
    assert ws.close_code == 500  # upstream's close code
    assert "must be the URL this server was reached at" in ws.close_reason


@pytest.mark.parametrize(
    ("min_version", "reason"), [("9.9.9", "Requested version"), ("garbage", "Invalid")]
)
async def test_unservable_min_version_closes_with_reason(http_root, token, min_version, reason):
    tunnel = await colab.open_tunnel(http_root, token, min_version=min_version)
    assert await tunnel.ws.read_message() is None
    assert reason in tunnel.ws.close_reason


async def test_tunnel_upgrade_needs_no_login_when_unauthenticated_access_is_off(
    jp_serverapp, http_root, token
):
    jp_serverapp.web_app.settings["allow_unauthenticated_access"] = False
    tunnel = await colab.open_tunnel(http_root, token)
    response = await tunnel.request("GET", "/api/kernelspecs")
    tunnel.close()
    assert response.status == 200


def test_proxied_uri_drops_only_the_auth_url():
    uri = "/api/kernels/k/channels?session_id=s&jupyter_http_over_ws_auth_url=http%3A%2F%2Fx&a=b"
    assert (
        without_query_param(uri, "jupyter_http_over_ws_auth_url")
        == "/api/kernels/k/channels?session_id=s&a=b"
    )
    assert without_query_param("/p", "x") == "/p"
    # Percent-encoded, the name is the same parameter to tornado: dropped too.
    encoded = "/p?jupyter%5Fhttp%5Fover%5Fws%5F%61uth%5Furl=http%3A%2F%2Fx&a=b"
    assert without_query_param(encoded, "jupyter_http_over_ws_auth_url") == "/p?a=b"


def test_close_reason_fits_a_close_frame():
    assert len(close_reason("é" * 200).encode()) <= 123
    assert close_reason("short") == "short"


def test_upstream_imports_without_distutils_and_leaves_notebook_intact():
    script = textwrap.dedent(
        """
        import importlib.abc, sys

        class NoDistutils(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "distutils" or name.startswith("distutils."):
                    raise ModuleNotFoundError(f"No module named {name!r}")
                return None

        sys.meta_path.insert(0, NoDistutils())
        sys.modules.pop("distutils", None)
        import notebook
        import colab_local.http_over_ws.handlers as tunnel
        import jupyter_http_over_ws

        assert tunnel.upstream.__name__ == "jupyter_http_over_ws.handlers"
        assert sys.modules["notebook"] is notebook
        stand_ins = ("notebook.base", "notebook.utils", "distutils")
        leftovers = [n for n in stand_ins if n in sys.modules]
        assert not leftovers, leftovers
        assert not hasattr(notebook, "base")
        from notebook.app import JupyterNotebookApp  # Notebook 7 still works
        print("ok", tunnel.PROTOCOL_VERSION)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok 0.0.7"


async def test_programming_error_propagates(http_root, token, monkeypatch, caplog):
    """Upstream's test of the same name: a defect in the proxying answers 500 and is
    logged with its traceback (here injected into the in-server dispatch)."""

    async def broken_dispatch(*args):
        raise RuntimeError("Expected programming error")

    monkeypatch.setattr(handlers, "dispatch", broken_dispatch)
    tunnel = await colab.open_tunnel(http_root, token)
    try:
        response = await tunnel.request("GET", "/api/status")
    finally:
        tunnel.close()
    assert response.status == 500
    assert response.status_text == (
        "Uncaught server-side exception. Check logs for additional details."
    )
    logged = [r for r in caplog.records if "uncaught error when proxying request" in r.message]
    assert logged
    assert logged[0].exc_info is not None


async def test_auth_url_programming_error_propagates(http_root, token, monkeypatch, caplog):
    """Upstream's test of the same name, for the relayed socket: close code 500 with
    upstream's reason, and the traceback logged."""

    async def broken_connect(*args, **kwargs):
        raise RuntimeError("Expected programming error")

    monkeypatch.setattr(handlers, "connect_to_own_server", broken_connect)
    query = f"jupyter_http_over_ws_auth_url={quote(colab.auth_url(http_root, token))}"
    ws = await colab.open_ws(
        f"{colab.ws_root(http_root)}http_over_websocket/proxied_ws/api/kernels/k/channels?{query}"
    )
    assert await ws.read_message() is None
    assert ws.close_code == 500
    assert ws.close_reason == "Uncaught error when proxying request"
    logged = [r for r in caplog.records if "uncaught error when relaying" in r.message]
    assert logged
    assert logged[0].exc_info is not None


async def relayed_kernel(http_root, token, *, subprotocols):
    tunnel = await colab.open_tunnel(http_root, token)
    created = await tunnel.request("POST", "/api/sessions", colab.session_body("sub.ipynb"))
    tunnel.close()
    kernel_id = created.json()["kernel"]["id"]
    auth = quote(colab.auth_url(http_root, token))
    path = f"http_over_websocket/proxied_ws/api/kernels/{kernel_id}/channels"
    url = f"{colab.ws_root(http_root)}{path}?session_id=s&jupyter_http_over_ws_auth_url={auth}"
    return await websocket.websocket_connect(
        httpclient.HTTPRequest(url, headers={"Origin": colab.COLAB_ORIGIN}),
        subprotocols=subprotocols,
    )


async def test_the_v1_kernel_subprotocol_is_negotiated_end_to_end_through_the_relay(
    http_root, token
):
    """A JupyterLab-style client asking for v1 gets v1, as on the direct flow: the relay
    asks the kernel socket for it and answers with what it got."""
    ws = await relayed_kernel(http_root, token, subprotocols=[V1])
    try:
        assert ws.selected_subprotocol == V1
        header = {"msg_id": uuid.uuid4().hex, "username": "t", "session": "s", "version": "5.3"}
        execute = {
            "header": {**header, "msg_type": "execute_request"},
            "parent_header": {},
            "metadata": {},
            "content": {"code": "print('v1 framing')", "silent": False},
            "buffers": [],
        }
        packed = serialize_msg_to_ws_v1(
            execute, "shell", pack=lambda part: json.dumps(part).encode()
        )
        ws.write_message(packed, binary=True)
        out = None
        while out is None:
            raw = await ws.read_message()
            assert isinstance(raw, bytes), raw  # v1 frames are binary
            channel, parts = deserialize_msg_from_ws_v1(raw)
            header_of, parent = (json.loads(parts[i]) for i in (0, 1))
            if parent.get("msg_id") == header["msg_id"] and header_of["msg_type"] == "stream":
                out = json.loads(parts[3])["text"]
        assert channel == "iopub"
        assert out == "v1 framing\n"
    finally:
        ws.close()


@pytest.mark.parametrize(
    "subprotocols", [None, ["no.such.protocol"]], ids=["none asked", "unknown asked"]
)
async def test_a_client_asking_for_no_known_subprotocol_gets_the_json_protocol(
    http_root, token, subprotocols
):
    ws = await relayed_kernel(http_root, token, subprotocols=subprotocols)
    try:
        assert ws.selected_subprotocol is None
        await colab.kernel_ready(ws)
        assert await colab.execute(ws, "print('json')", "s") == "json\n"
    finally:
        ws.close()
