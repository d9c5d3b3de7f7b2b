"""A gateway on this machine's loopback must be this user's own.

On a shared machine any user can listen on a loopback port. A server whose gateway URL
names one (``jupyter colab service --kernel-gateway``, a ``kubectl port-forward``) would
send whoever holds that port its gateway token with every request, and run Colab's cells
in that user's kernels. So before every request to a loopback gateway (jupyter_server
calls ``GatewayClient.load_connection_args`` for each HTTP request and WebSocket), the
listening socket's owner is read from the kernel's socket table (``/proc/net/tcp*``, the
server's own network namespace): another user's socket is refused (503, logged), and a
server that finds one at start does not start. ``ColabLocal.check_gateway_owner=False``
turns this off for a gateway another user runs on purpose.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jupyter_server.gateway.gateway_client import GatewayClient
from tornado import web

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

    from colab_local.config import ColabLocal

SOCKET_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")
_LISTEN = "0A"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as /proc/net/tcp* prints it: 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def listeners(port: int, tables: tuple[str, ...] = ()) -> Iterator[tuple[Any, int]]:
    """(address, uid) of each listening TCP socket on ``port``, loopback or wildcard."""
    for table in tables or SOCKET_TABLES:
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 8 or fields[3] != _LISTEN:
                continue
            hex_address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) != port:
                continue
            address = _address(hex_address)
            if address.is_loopback or address.is_unspecified:
                yield address, int(fields[7])


def loopback_port(url: str) -> int | None:
    """The port of ``url`` when it names this machine's loopback, else None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if port is None:
        return None
    if host.lower() in _LOOPBACK_NAMES:
        return port
    try:
        return port if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None


def owner_problem(url: str, uid: int | None = None) -> str | None:
    """Why the gateway at ``url`` must not be used: another user listens on its loopback
    port. None when it is ours, not listening, or not on this machine."""
    port = loopback_port(url)
    if port is None:
        return None
    me = os.getuid() if uid is None else uid
    strangers = sorted({owner for _, owner in listeners(port) if owner != me})
    if not strangers:
        return None
    return (
        f"the gateway's port {port} on this machine is held by another user (uid "
        f"{', '.join(map(str, strangers))}), not by you: this server would send them your "
        "gateway token and run Colab's code in their kernels. Run your own gateway on a "
        "port of your own (`jupyter colab service --install --kernel-gateway` gives each "
        "user one), or set ColabLocal.check_gateway_owner=False if that user is trusted."
    )


class OwnGatewayClient(GatewayClient):
    """jupyter_server's gateway client, refusing a loopback gateway another user holds."""

    def load_connection_args(self, **kwargs: Any) -> dict[str, Any]:
        problem = owner_problem(self.url or "")
        if problem:
            self.log.error("colab_local | refused to contact the gateway: %s", problem)
            raise web.HTTPError(503, reason="the gateway's port is held by another user")
        args: dict[str, Any] = super().load_connection_args(**kwargs)  # type: ignore[no-untyped-call]
        return args


def check_gateway_owner(serverapp: ServerApp, options: ColabLocal) -> None:
    """At link time: make the gateway client check every request, and refuse to start when
    another user already holds a loopback gateway's port."""
    if not options.check_gateway_owner:
        return
    if not GatewayClient.initialized():
        OwnGatewayClient.instance(parent=serverapp)
    client = GatewayClient.instance()
    if type(client) is GatewayClient:  # made before colab-local linked: checked all the same
        client.__class__ = OwnGatewayClient
    elif not isinstance(client, OwnGatewayClient):
        serverapp.log.warning(
            "colab_local | a custom GatewayClient (%s) is in use: colab-local cannot check "
            "who listens on a loopback gateway's port",
            type(client).__name__,
        )
    if not client.gateway_enabled:
        return
    problem = owner_problem(client.url or "")
    if problem:
        serverapp.log.critical("colab_local | not starting: %s", problem)
        raise SystemExit(1)
