"""The gateway channel class: replaces jupyter_server's own only, and tells a notebook its
kernel is dead in the wire format frontends read (tests/installed/test_gateway_channels.py
drives it against real gateways)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from jupyter_server.gateway.connections import GatewayWebSocketConnection
from tornado.websocket import WebSocketHandler
from traitlets.config import Configurable

from colab_local.config import ColabLocal
from colab_local.workarounds.gateway_channels import (
    PENDING_LIMIT,
    KernelHonestGatewayConnection,
    dead_status,
    honest_gateway_channels,
)
from colab_local.workarounds.kernel_sockets import SETTING


def server_with(connection_class: type) -> Any:
    return SimpleNamespace(web_app=SimpleNamespace(settings={SETTING: connection_class}))


def test_jupyter_servers_gateway_connection_is_replaced_with_the_configured_interval():
    server = server_with(GatewayWebSocketConnection)
    honest_gateway_channels(server, ColabLocal(gateway_kernel_check_interval=3))
    used = server.web_app.settings[SETTING]
    assert issubclass(used, KernelHonestGatewayConnection)
    assert issubclass(used, GatewayWebSocketConnection)
    assert used.check_interval == 3


def test_a_connection_class_the_user_configured_is_left_alone():
    class Theirs(GatewayWebSocketConnection):
        pass

    for configured in (Theirs, KernelHonestGatewayConnection):
        server = server_with(configured)
        honest_gateway_channels(server, ColabLocal())
        assert server.web_app.settings[SETTING] is configured


def test_the_dead_status_is_an_iopub_status_message_of_the_notebooks_session():
    message = json.loads(dead_status("the-session"))
    assert message["channel"] == "iopub"
    assert message["header"]["msg_type"] == message["msg_type"] == "status"
    assert message["header"]["session"] == "the-session"
    assert message["content"] == {"execution_state": "dead"}
    assert message["parent_header"] == {}
    assert json.loads(dead_status("s"))["header"]["msg_id"] != message["header"]["msg_id"]


class _NotebookSide(WebSocketHandler):
    """The notebook's WebSocket, as far as the channel uses it: closed with a code."""

    def __init__(self) -> None:  # no request: only close() is used
        self.closed_with = None

    def close(self, code=None, reason=None):
        self.closed_with = (code, reason)


class _Kernel(Configurable):
    kernel_id = "k1"


def channel_waiting_for_the_gateway() -> tuple[KernelHonestGatewayConnection, _NotebookSide]:
    notebook = _NotebookSide()
    channel = KernelHonestGatewayConnection(parent=_Kernel(), websocket_handler=notebook)
    channel._pending, channel._pending_bytes = [], 0  # connect() before the socket opens
    return channel, notebook


def test_messages_held_for_an_absent_gateway_are_bounded_in_bytes():
    channel, notebook = channel_waiting_for_the_gateway()
    big = "x" * (3 * 1024 * 1024)
    for _ in range(5):
        channel.handle_incoming_message(big)
    assert notebook.closed_with is None  # 15 MiB held
    channel.handle_incoming_message(big)
    code, reason = notebook.closed_with
    assert code == 1008
    assert "16 MiB waiting for the gateway" in reason
    assert channel._pending is None  # released


def test_messages_held_for_an_absent_gateway_are_bounded_in_count():
    channel, notebook = channel_waiting_for_the_gateway()
    for _ in range(PENDING_LIMIT):
        channel.handle_incoming_message("{}")
    assert notebook.closed_with is None
    channel.handle_incoming_message("{}")
    assert notebook.closed_with[0] == 1008
