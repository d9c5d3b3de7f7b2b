"""Nothing before the token: bounded output on every socket, a relay that cannot loop.

Against a real server, as an attacker without the token would try it: pipelining requests
and never reading, pointing the relay at itself; and as a user would meet it: one very
large kernel output through the relayed kernel channel, to a client that reads.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import notebook
import pytest
from tornado import httpclient, websocket

from colab_local.http_over_ws.handlers import UNAUTHENTICATED_MESSAGE_LIMIT
from tests_support import colab_client as colab
from tests_support.memory import PeakRss
from tests_support.raw_ws import BINARY, RawWebSocket, frame
from tests_support.server_process import running_server, wait_for

STALL_SECONDS = 3
pytestmark = pytest.mark.usefixtures("each_test_checks_its_log")
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("backpressure")
    stall = f"--ColabLocal.stalled_client_timeout={STALL_SECONDS}"
    with running_server(home, "--debug", stall) as process:
        yield process


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def static_script() -> str:
    """A static file of Notebook 7 that anyone may GET without the token (~tens of KB)."""
    static = Path(notebook.__file__).parent / "static"
    sized = [(p.stat().st_size, p) for p in static.rglob("*.js") if p.is_file()]
    _size, path = min((s, p) for s, p in sized if s >= 40_000)
    return "/static/notebook/" + path.relative_to(static).as_posix()


def tokenless_tunnel(server, path="/http_over_websocket?min_version=0.0.7"):
    return RawWebSocket(server.port, path, {"Origin": colab.COLAB_ORIGIN})


def pipeline_until_closed(ws: RawWebSocket, message: bytes, seconds: float) -> float | None:
    """Send ``message`` over and over, reading nothing; seconds until the server closed the
    connection (a send fails), or None if it was still open after ``seconds``."""
    started = time.monotonic()
    ws.sock.settimeout(1)
    payload = frame(message)
    while time.monotonic() - started < seconds:
        try:
            ws.sock.sendall(payload)
        except socket.timeout:  # TimeoutError from Python 3.10; an OSError on 3.9
            continue  # the server stopped reading: back-pressure, as it should
        except OSError:
            return time.monotonic() - started
    return None


@pytest.mark.parametrize(
    "kind", ["static-file", "403", "diagnose"], ids=["static", "forbidden", "diagnose"]
)
def test_a_tokenless_client_that_never_reads_is_bounded_and_closed(server, kind):
    mark = server.log_mark()
    if kind == "static-file":
        ws = tokenless_tunnel(server)
        message = json.dumps({"message_id": 1, "method": "GET", "path": static_script()})
    elif kind == "403":
        ws = tokenless_tunnel(server)
        message = json.dumps({"message_id": 1, "method": "GET", "path": "/api/contents"})
    else:
        ws = tokenless_tunnel(server, "/http_over_websocket/diagnose?min_version=0.0.7")
        # As large as a message may be before the token, echoed JSON-escaped: six times
        # larger (a larger one is closed at once, 1009: test_abuse.py).
        message = "\x01" * (UNAUTHENTICATED_MESSAGE_LIMIT - 1024)
    try:
        with PeakRss(server.proc.pid) as memory:
            closed_after = pipeline_until_closed(ws, message.encode(), STALL_SECONDS + 20)
    finally:
        ws.close()
    assert closed_after is not None, "a client that reads nothing must be disconnected"
    assert memory.growth < 50, f"server grew {memory.growth:.0f} MiB for one client"
    wait_for(lambda: "read nothing for" in server.log_after(mark), 10, "the stall to be logged")


def test_the_relay_opens_nothing_for_a_client_without_the_token(server):
    chain = "http_over_websocket/proxied_ws/" * 200 + "http_over_websocket/diagnose"
    fds = open_fds(server.proc.pid)
    ws = tokenless_tunnel(server, f"/http_over_websocket/proxied_ws/{chain}")
    opcode, payload = ws.read_frame()
    ws.close()
    assert opcode == 0x8
    assert int.from_bytes(payload[:2], "big") == 403
    assert open_fds(server.proc.pid) <= fds + 2


def test_the_relay_never_reaches_colab_locals_own_endpoints(server):
    auth = quote(colab.auth_url(server.http_root, server.token), safe="")
    for target in (
        "http_over_websocket/diagnose",
        "http_over_websocket/proxied_ws/api/events/subscribe",
        "http_over_websocket",
    ):
        ws = tokenless_tunnel(
            server,
            f"/http_over_websocket/proxied_ws/{target}?jupyter_http_over_ws_auth_url={auth}",
        )
        opcode, payload = ws.read_frame()
        ws.close()
        assert opcode == 0x8, target
        assert int.from_bytes(payload[:2], "big") == 404, target


async def test_a_reading_client_gets_one_70_mb_output_through_the_relay(server):
    created = await colab.direct_fetch(
        server.http_root,
        "api/sessions",
        server.token,
        method="POST",
        body=colab.session_body("big-output.ipynb"),
    )
    kernel_id = json.loads(created.body)["kernel"]["id"]
    query = urlencode(
        {
            "session_id": "big",
            "jupyter_http_over_ws_auth_url": colab.auth_url(server.http_root, server.token),
        }
    )
    path = f"http_over_websocket/proxied_ws/api/kernels/{kernel_id}/channels"
    url = f"{colab.ws_root(server.http_root)}{path}?{query}"
    ws = await websocket.websocket_connect(
        httpclient.HTTPRequest(url, headers={"Origin": colab.COLAB_ORIGIN}, request_timeout=60),
        max_message_size=200 * MIB,
    )
    try:
        await colab.kernel_ready(ws)
        msg_id = colab.send_execute(
            ws, "display({'text/plain': 'z' * 70_000_000}, raw=True)", "big"
        )
        size = None
        while True:
            raw = await ws.read_message()
            assert raw is not None, f"closed: {ws.close_code} {ws.close_reason}"
            message = json.loads(raw)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "display_data":
                size = len(message["content"]["data"]["text/plain"])
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                break
        assert size == 70_000_000
    finally:
        ws.close()
        await colab.direct_fetch(
            server.http_root, f"api/kernels/{kernel_id}", server.token, method="DELETE"
        )


def test_a_binary_frame_to_diagnose_is_answered_without_a_traceback(server):
    ws = tokenless_tunnel(server, "/http_over_websocket/diagnose?min_version=0.0.7")
    ws.send_frame(b"\xffbinary", opcode=BINARY)
    _opcode, payload = ws.read_frame()
    ws.close()
    answer = json.loads(payload)
    assert answer["message_id"] == "\ufffdbinary"
    assert answer["extension_version"] == "0.0.7"


def test_without_anonymous_access_the_tunnel_refuses_an_upgrade_without_credentials(tmp_path):
    with running_server(tmp_path, "--ServerApp.allow_unauthenticated_access=False") as process:
        for path in (
            "/http_over_websocket",
            "/http_over_websocket/diagnose",
            "/http_over_websocket/proxied_ws/api/events/subscribe",
        ):
            with pytest.raises(ConnectionError, match=" 403 "):
                RawWebSocket(process.port, path, {"Origin": colab.COLAB_ORIGIN})
        auth = quote(colab.auth_url(process.http_root, process.token), safe="")
        ws = RawWebSocket(
            process.port,
            f"/http_over_websocket?min_version=0.0.7&jupyter_http_over_ws_auth_url={auth}",
            {"Origin": colab.COLAB_ORIGIN},
        )
        ws.send_frame(
            json.dumps({"message_id": 1, "method": "GET", "path": "/api/status"}).encode()
        )
        first = json.loads(ws.read_frame()[1])
        ws.close()
        assert first["status"] == 200
