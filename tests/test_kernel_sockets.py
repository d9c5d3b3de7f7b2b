"""Every socket that carries kernel messages sends each frame at once (TCP_NODELAY):
Jupyter's kernel WebSocket, colab-local's tunnel and relayed sockets, and the relay's own
connection to this server. Without it each reply's second small frame waits ~40 ms for
the client's delayed ACK (benchmarks/kernel_latency.py measures the round trips)."""

from __future__ import annotations

import gc
import json
import socket

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

from colab_local.http_over_ws.handlers import ProxiedSocketHandler, TunnelHandler
from colab_local.workarounds.kernel_sockets import without_nagle
from tests_support import colab_client as colab


def nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def kernel_connections() -> list[ZMQChannelsWebsocketConnection]:
    return [c for c in ZMQChannelsWebsocketConnection._open_sockets if c.websocket_handler]


def live(kind: type) -> list:
    return [o for o in gc.get_objects() if isinstance(o, kind) and o.ws_connection is not None]


async def start_kernel(http_root, token, name):
    created = await colab.direct_fetch(
        http_root, "api/sessions", token, method="POST", body=colab.session_body(name)
    )
    return json.loads(created.body)["kernel"]["id"]


async def test_the_configured_connection_class_is_subclassed_not_replaced(jp_serverapp):
    configured = jp_serverapp.kernel_websocket_connection_class
    used = jp_serverapp.web_app.settings["kernel_websocket_connection_class"]
    assert issubclass(used, configured)
    assert used is not configured
    assert without_nagle(used) is used  # wrapped once


async def test_the_direct_kernel_websocket_has_nodelay(http_root, token):
    kernel_id = await start_kernel(http_root, token, "direct.ipynb")
    ws = await colab.open_direct_kernel(http_root, token, kernel_id, "d")
    try:
        sockets = [c.websocket_handler.ws_connection.stream.socket for c in kernel_connections()]
        assert sockets
        assert all(nodelay(s) for s in sockets)
    finally:
        ws.close()


async def test_relayed_and_tunnel_sockets_have_nodelay_on_every_hop(http_root, token):
    kernel_id = await start_kernel(http_root, token, "relayed.ipynb")
    channel = await colab.open_proxied_kernel(http_root, token, kernel_id, "r")
    tunnel = await colab.open_tunnel(http_root, token)
    try:
        assert (await tunnel.request("GET", "/api/status")).status == 200
        relays = live(ProxiedSocketHandler)
        tunnels = live(TunnelHandler)
        assert relays
        assert tunnels
        for handler in relays:
            assert nodelay(handler.ws_connection.stream.socket)  # to the client
            to_server = handler._relay
            assert nodelay(to_server.protocol.stream.socket)  # to this server
        for handler in tunnels:
            assert nodelay(handler.ws_connection.stream.socket)
        # The relay's peer inside the server: Jupyter's kernel WebSocket.
        assert all(
            nodelay(c.websocket_handler.ws_connection.stream.socket) for c in kernel_connections()
        )
    finally:
        channel.close()
        tunnel.close()
