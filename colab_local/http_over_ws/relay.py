"""WebSocket connections to this server itself, for ``proxied_ws``, and to nowhere else.

Upstream relayed ``/http_over_websocket/proxied_ws/<path>`` to ``ws://<Host header>/<path>``:
a host and port the client chooses, so any loopback service (or, on a server listening
on all interfaces, any address the Host header names) received a two-way WebSocket with
the client's headers. Here the connection is resolved to the sockets this server itself
listens on, whatever the URL or the Host header says; the Host header is passed along
only for Jupyter's own host and origin checks, which it has already passed once.
"""

from __future__ import annotations

import secrets
import socket
from typing import TYPE_CHECKING, Any

from tornado import httpclient, websocket
from tornado.netutil import DefaultLoopResolver, Resolver

from colab_local.workarounds.kernel_sockets import set_nodelay

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

#: Largest message accepted from this server on a relayed socket (kernel output): Jupyter
#: itself sets no limit towards the browser, so this only guards against the absurd.
SERVER_MESSAGE_LIMIT = 1024 * 1024 * 1024
CONNECT_TIMEOUT = 20.0
#: Sent on the relay's own connection to this server, so that hop is not taken for a
#: request of Colab's page (``colab_local.diagnostics.contacts``): the relayed socket is. Random per
#: process: a client cannot hide its requests by sending it.
RELAY_MARK_HEADER = "X-Colab-Local-Relay"
RELAY_MARK = secrets.token_hex(16)
_WILDCARD_TO_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


async def own_addresses(serverapp: ServerApp) -> list[tuple[int, Any]]:
    """The addresses this server listens on, as a connecting client reaches them.

    From ServerApp's public settings after it bound: its unix socket, else its ``ip``
    (a wildcard becomes its loopback) at ``port``, which is the port it actually bound
    (a retried or OS-chosen one too). A host name is looked up off the event loop.
    """
    if serverapp.sock:
        return [(socket.AF_UNIX, serverapp.sock)]
    host = _WILDCARD_TO_LOOPBACK.get(serverapp.ip, serverapp.ip)
    try:
        addresses = await DefaultLoopResolver().resolve(host, serverapp.port)
    except OSError:
        addresses = []
    return addresses or [(socket.AF_INET, ("127.0.0.1", serverapp.port))]


class OwnServerResolver(Resolver):
    """Resolves every name to this server's own listening addresses."""

    def initialize(self, serverapp: ServerApp) -> None:
        self.serverapp = serverapp

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        return await own_addresses(self.serverapp)


async def connect_to_own_server(
    serverapp: ServerApp,
    path: str,
    headers: dict[str, str],
    *,
    secure: bool,
    subprotocols: list[str] | None = None,
) -> websocket.WebSocketClientConnection:
    """Open a WebSocket to ``path`` (with its query) on this server.

    Raises ``httpclient.HTTPClientError`` with the HTTP status when the server refuses the
    upgrade (403 not authorized, 404 no such path), ``OSError`` when it cannot be reached.
    """
    request = httpclient.HTTPRequest(
        url=f"{'wss' if secure else 'ws'}://localhost{path}",
        headers={**headers, RELAY_MARK_HEADER: RELAY_MARK},
        connect_timeout=CONNECT_TIMEOUT,
        request_timeout=CONNECT_TIMEOUT,
        # The resolver guarantees the peer is this server's own socket, whose
        # certificate need not name "localhost" (and upstream's check needed the
        # certfile jupyter_server never exposes: defect 4).
        validate_cert=False,
    )
    relay = await websocket.websocket_connect(
        request,
        max_message_size=SERVER_MESSAGE_LIMIT,
        resolver=OwnServerResolver(serverapp=serverapp),
        subprotocols=subprotocols,
    )
    set_nodelay(getattr(relay.protocol, "stream", None))  # kernel messages, at once
    return relay
