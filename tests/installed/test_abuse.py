"""The tunnel under abuse, against a real server: limits before authentication, malformed
and oversized messages, clients that stop reading or leave at any moment, and the token
kept out of the log (``--debug`` included). The memory and latency figures are measured
by ``benchmarks/abuse.py``; these tests prove the behaviour."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import struct
import uuid
from urllib.parse import quote

import pytest

from tests_support import colab_client as colab
from tests_support.raw_ws import BINARY, CONTINUATION, TEXT, RawWebSocket, frame
from tests_support.server_process import (
    JupyterProcess,
    free_port,
    running_server,
    wait_for,
)

pytestmark = [pytest.mark.installed, pytest.mark.usefixtures("each_test_checks_its_log")]

STALL_SECONDS = 2
MIB = 1024 * 1024
AUTH_PARAM = "jupyter_http_over_ws_auth_url"
# The same parameter name, percent-encoded: tornado decodes it, so it must be scrubbed too.
ENCODED_AUTH_PARAM = "jupyter%5Fhttp%5Fover%5Fws%5F%61uth%5Furl"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("abuse")
    stall = f"--ColabLocal.stalled_client_timeout={STALL_SECONDS}"
    with running_server(home, "--debug", stall) as process:
        (process.root / "big.bin").write_bytes(os.urandom(50 * MIB))
        yield process


def tunnel_path(server, token, param=AUTH_PARAM):
    auth = quote(colab.auth_url(server.http_root, token), safe="")
    return f"/http_over_websocket?min_version=0.0.7&{param}={auth}"


def raw_tunnel(server, token=None, param=AUTH_PARAM):
    return RawWebSocket(
        server.port,
        tunnel_path(server, server.token if token is None else token, param),
        {"Origin": colab.COLAB_ORIGIN},
    )


def read_answer(ws):
    """Messages of one response, until done; None if the server closed instead."""
    messages = []
    while True:
        opcode, payload = ws.read_frame()
        if opcode == 0x8:
            return None
        messages.append(json.loads(payload))
        if messages[-1].get("done"):
            return messages


def close_code(ws):
    opcode, payload = ws.read_frame()
    assert opcode == 0x8
    return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None


def request(message_id, path="/api/status", **fields):
    return json.dumps({"message_id": message_id, "method": "GET", "path": path, **fields})


def assert_still_answers(ws):
    answer = read_answer_after(ws, request("still-here"))
    assert answer[0]["status"] == 200


def read_answer_after(ws, text):
    ws.send_frame(text.encode())
    return read_answer(ws)


# Limits before authentication.


def test_without_the_token_a_large_message_is_refused_before_it_is_read(server):
    ws = raw_tunnel(server, token="not-the-token")
    ws.send_header_only(2 * MIB)  # announce 2 MiB, send none of it
    assert close_code(ws) == 1009  # "message too big", decided on the header alone
    ws.close()


def test_without_the_token_a_fragment_flood_is_bounded_too(server):
    ws = raw_tunnel(server, token="not-the-token")
    ws.send_frame(b"[", opcode=TEXT, fin=False)
    piece = frame(b" " * 1000, CONTINUATION, fin=False)
    with contextlib.suppress(OSError):  # the server may have closed it already
        for _ in range(2000):
            ws.send_bytes(piece)
    assert close_code(ws) == 1009  # once the fragments pass 64 KiB
    ws.close()


SEPARATORS = "/" + ";" * (60 * 1024)


def test_without_the_token_a_path_of_separators_is_refused_and_logged_short(server):
    """Such a path once cost the log redaction seconds per line, on the event loop (the
    latency beside plain Jupyter: benchmarks/abuse.py)."""
    mark = server.log_mark()
    ws = raw_tunnel(server, token="not-the-token")
    assert read_answer_after(ws, request("seps", path=SEPARATORS))[0]["status"] in (403, 404)
    # A 1 MiB path: refused on its frame's header, never parsed (the rest never has to be
    # sent; the server may close before it could be).
    ws.send_header_only(MIB)
    assert close_code(ws) == 1009
    ws.close()
    with socket.create_connection(("127.0.0.1", server.port)) as direct:
        direct.sendall(f"GET {SEPARATORS} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        assert direct.recv(64).split(b" ")[1] in (b"403", b"404")
    wait_for(
        lambda: server.log_after(mark).count("characters not logged]") >= 2,
        30,
        "both requests' log lines, cut",
    )
    lines = server.log_after(mark).splitlines()
    assert max(len(line) for line in lines) < 17 * 1024
    fresh = raw_tunnel(server)
    assert_still_answers(fresh)
    fresh.close()


def test_with_the_token_large_messages_are_accepted(server):
    ws = raw_tunnel(server)
    answer = read_answer_after(ws, request("big", body="x" * (2 * MIB)))
    assert answer[0]["status"] == 200
    ws.close()


# A 400 for every malformed message, the connection kept.

MALFORMED = {
    "deeply nested message": "[" * 100_000 + "]" * 100_000,
    "deeply nested field": '{"message_id": 1, "method": "GET", "path": "/", "x": '
    + "[" * 100_000
    + "]" * 100_000
    + "}",
    "lone surrogate in path": request(1, path="/api/\ud800"),
    "lone surrogate in body": json.dumps(
        {"message_id": 1, "method": "POST", "path": "/api/sessions", "body": "\udfff"}
    ),
    "huge integer id": '{"message_id": ' + "9" * 5000 + ', "method": "GET", "path": "/"}',
    "id too large": request(2**60),
    "id too long": request("x" * 10_000),
    "id of the wrong type": request(None),
    "method of the wrong type": json.dumps({"message_id": 1, "method": [], "path": "/"}),
    "body of the wrong type": request(1, body=123),
    "body_base64 not base64": request(1, body_base64="%%%"),
    "NaN id": '{"message_id": NaN, "method": "GET", "path": "/"}',
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_message_gets_400_and_the_connection_goes_on(server, text):
    ws = raw_tunnel(server)
    answer = read_answer_after(ws, text)
    assert answer is not None
    assert answer[0]["status"] == 400
    assert answer[0]["statusText"]
    assert_still_answers(ws)
    ws.close()


def test_binary_frames_are_messages_too(server):
    ws = raw_tunnel(server)
    ws.send_frame(request("b").encode(), opcode=BINARY)
    assert read_answer(ws)[0]["status"] == 200
    ws.send_frame(b'{"message_id": 1, "path": "/\xff\xfe"}', opcode=BINARY)  # not UTF-8
    assert read_answer(ws)[0]["status"] == 400
    assert_still_answers(ws)
    ws.close()


def test_invalid_utf8_in_a_text_frame_fails_the_connection_quietly(server):
    """RFC 6455 (8.1): a text frame that is not UTF-8 fails the WebSocket connection.
    The server does so, stays up, and logs no traceback."""
    ws = raw_tunnel(server)
    ws.send_frame(b'{"path": "\xff"}', opcode=TEXT)
    assert ws.read_frame()[0] == 0x8
    ws.close()
    fresh = raw_tunnel(server)
    assert_still_answers(fresh)
    fresh.close()


# Clients that stop reading, or leave at any moment.


def open_file_handles(server, name):
    fd_dir = f"/proc/{server.proc.pid}/fd"
    count = 0
    for fd in os.listdir(fd_dir):
        try:
            count += os.readlink(f"{fd_dir}/{fd}").endswith(name)
        except OSError:
            continue
    return count


def test_a_client_that_stops_reading_is_disconnected_and_releases_the_file(server):
    mark = server.log_mark()
    ws = raw_tunnel(server)
    ws.send_frame(request("never-read", path="/files/big.bin").encode())
    wait_for(lambda: open_file_handles(server, "big.bin") > 0, 30, "the download to start")
    wait_for(
        lambda: "read nothing for 2s" in server.log_after(mark),
        STALL_SECONDS + 30,
        "the stalled client to be disconnected",
    )
    wait_for(lambda: open_file_handles(server, "big.bin") == 0, 30, "the file to be released")
    ws.close()


async def test_a_client_leaving_a_relayed_kernel_mid_output_logs_nothing(server):
    root, token = server.http_root, server.token
    created = await colab.direct_fetch(
        root, "api/sessions", token, method="POST", body=colab.session_body("leave.ipynb")
    )
    kernel_id = json.loads(created.body)["kernel"]["id"]
    for _ in range(3):
        channel = await colab.open_proxied_kernel(root, token, kernel_id, uuid.uuid4().hex)
        output = "import time\nfor i in range(200):\n    print(i, flush=True)\n    time.sleep(0.01)"
        colab.send_execute(channel, output, "s")
        for _ in range(20):
            assert await channel.read_message() is not None
        channel.stream.close()  # the laptop drops the connection mid-output
    again = await colab.open_proxied_kernel(root, token, kernel_id, uuid.uuid4().hex)
    assert await colab.execute(again, "print('ok')", "s") == "ok\n"
    again.close()


def test_a_client_leaving_mid_upload_or_before_the_answer_logs_nothing(server):
    body = json.dumps({"type": "file", "format": "text", "content": "x" * (8 * MIB)})
    message = json.dumps(
        {"message_id": 1, "method": "PUT", "path": "/api/contents/up.txt", "body": body}
    ).encode()
    mid_upload = raw_tunnel(server)
    whole = frame(message)
    mid_upload.send_bytes(whole[: len(whole) // 2])  # half a frame, then gone
    mid_upload.close()
    before_answer = raw_tunnel(server)
    before_answer.send_bytes(whole)  # a whole upload, then gone before the answer
    before_answer.close()
    wait_for((server.root / "up.txt").exists, 30, "the complete upload to be saved")
    check = raw_tunnel(server)
    assert_still_answers(check)
    check.close()


# The token in the log.


def test_an_encoded_auth_parameter_works_and_is_scrubbed(server):
    ws = raw_tunnel(server, param=ENCODED_AUTH_PARAM)
    assert read_answer_after(ws, request("e", path="/api/sessions"))[0]["status"] == 200
    ws.close()
    auth = quote(colab.auth_url(server.http_root, server.token), safe="")
    relayed = RawWebSocket(
        server.port,
        f"/http_over_websocket/proxied_ws/no/such/socket?s=1&{ENCODED_AUTH_PARAM}={auth}",
        {"Origin": colab.COLAB_ORIGIN},
    )
    assert close_code(relayed) == 404  # authenticated, relayed: this server has no such path
    relayed.close()


async def test_a_4xx_carrying_the_token_is_logged_without_it(server):
    mark = server.log_mark()
    missing = await colab.direct_fetch(
        server.http_root, "api/contents/no-such.ipynb?content=0", server.token
    )
    assert missing.code == 404
    logged = "no-such.ipynb?content=0&token=[secret]"
    wait_for(lambda: logged in server.log_after(mark), 10, "the 404 line")


def test_a_line_break_after_the_token_in_an_auth_url_is_a_clean_refusal(server):
    auth = quote(colab.auth_url(server.http_root, server.token) + "%0AX-Injected: 1", safe="")
    for path in ("/http_over_websocket", "/http_over_websocket/proxied_ws/api/events/subscribe"):
        ws = RawWebSocket(
            server.port,
            f"{path}?min_version=0.0.7&{AUTH_PARAM}={auth}",
            {"Origin": colab.COLAB_ORIGIN},
        )
        if "proxied_ws" in path:
            assert close_code(ws) == 500  # upstream's code for a refused auth URL
        else:
            answer = read_answer_after(ws, request("crlf"))
            assert answer[0]["status"] == 500
            assert "control character" in answer[0]["statusText"]
        ws.close()


def test_the_banner_is_the_only_line_with_the_token_even_with_debug(server):
    log = server.log
    assert "[D " in log  # --debug is on
    leaked = [line for line in log.splitlines() if server.token in line]
    assert leaked, "the banner shows the URL to paste"
    assert all(line.strip().startswith("http://localhost:8888/?token=") for line in leaked), leaked


# The token file.


@pytest.mark.parametrize("mode", [0o1777, 0o777], ids=["sticky-like-tmp", "world-writable"])
def test_a_token_file_in_a_directory_others_can_write_is_refused(tmp_path, mode):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, mode)
    args = [
        "--no-browser",
        "--allow-root",
        f"--port={free_port()}",
        f"--ColabLocal.token_file={shared / 'token'}",
    ]
    process = JupyterProcess(tmp_path, args).start()
    try:
        process.wait_ready()
    finally:
        process.stop()
    assert f"can be written by other users (mode {mode:04o})" in process.log
    assert f"chmod go-w {shared}" in process.log
    assert stat.S_IMODE(shared.stat().st_mode) == mode  # never changed
    assert list(shared.iterdir()) == []


def test_a_token_others_could_read_is_replaced_at_start(tmp_path):
    token_file = tmp_path / "data" / "colab_local" / "token"
    token_file.parent.mkdir(parents=True, mode=0o700)
    exposed = "E" * 43
    token_file.write_text(exposed + "\n")
    token_file.chmod(0o644)
    args = ["--no-browser", "--allow-root", f"--port={free_port()}"]
    process = JupyterProcess(tmp_path, args).start()
    try:
        process.wait_ready()
    finally:
        process.stop()
    assert process.token != exposed
    assert token_file.read_text().strip() == process.token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert "readable by other users (mode 0644)" in process.log
    assert "URL to paste into Colab changed" in process.log


def test_a_token_file_that_is_a_fifo_neither_hangs_nor_stops_the_server(tmp_path):
    token_file = tmp_path / "data" / "colab_local" / "token"
    token_file.parent.mkdir(parents=True, mode=0o700)
    os.mkfifo(token_file, 0o600)
    with running_server(tmp_path) as process:
        assert token_file.read_text().strip() == process.token
    assert process.proc.returncode != -signal.SIGKILL  # SIGTERM was enough
    assert "not a regular file" in process.log
