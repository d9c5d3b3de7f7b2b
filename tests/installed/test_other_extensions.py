"""Another extension's handlers answer through the tunnel as on a direct connection.

The tunnel hands each message to the server the way tornado's HTTP server hands over a
request (its public ``HTTPServerConnectionDelegate`` interface), so a handler that streams
its request body, reads form arguments or flushes its answer in pieces behaves the same on
both of Colab's flows. (A tunnel that built the request itself failed a streaming handler
with 500 and parsed a form body twice.)
"""

from __future__ import annotations

import json

import pytest

from tests_support import colab_client as colab
from tests_support.server_process import isolated_env, running_server
from tests_support.topology import TESTS_DIR

pytestmark = [pytest.mark.installed, pytest.mark.usefixtures("each_test_checks_its_log")]

UPLOAD = b"0123456789abcdef" * (2 * 1024 * 1024 // 16)  # 2 MiB
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("another")
    extension = '--ServerApp.jpserver_extensions={"tests_support.another_extension": True}'
    env = isolated_env(home, PYTHONPATH=TESTS_DIR)
    with running_server(home, extension, env=env) as process:
        yield process


async def both_flows(server, method, path, body=None, headers=None):
    """(direct, tunnel): each flow's (status, body) for the same request."""
    direct = await colab.direct_fetch(
        server.http_root, path, server.token, method=method, body=body, headers=headers
    )
    tunnel = await colab.open_tunnel(server.http_root, server.token, headers=headers)
    try:
        tunnelled = await tunnel.request(method, path, body)
    finally:
        tunnel.close()
    return (direct.code, direct.body), (tunnelled.status, tunnelled.body)


async def test_a_streaming_upload_handler_gets_the_whole_body_on_both_flows(server):
    direct, tunnel = await both_flows(server, "PUT", "another/upload", UPLOAD.decode())
    assert direct[0] == tunnel[0] == 200
    assert json.loads(direct[1])["received"] == json.loads(tunnel[1])["received"] == len(UPLOAD)
    # The body arrives in pieces through the tunnel too (64 KiB each), not as one.
    assert json.loads(tunnel[1])["pieces"] >= len(UPLOAD) // (64 * 1024)


async def test_form_arguments_are_parsed_once_on_both_flows(server):
    # The page's tunnel carries the upgrade's headers into each request it tunnels.
    direct, tunnel = await both_flows(
        server, "POST", "another/form?a=query", "a=body", headers={"Content-Type": FORM}
    )
    assert direct[0] == tunnel[0] == 200
    assert json.loads(direct[1]) == json.loads(tunnel[1]) == {"a": ["query", "body"]}


async def test_an_answer_flushed_in_pieces_arrives_whole_and_in_order(server):
    direct, tunnel = await both_flows(server, "GET", "another/pieces?count=40")
    assert direct == tunnel
    assert tunnel[1].decode().splitlines() == [f"piece {n}" for n in range(40)]
