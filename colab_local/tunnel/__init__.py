"""Colab's HTTP-over-WebSocket tunnel (jupyter_http_over_ws protocol 0.0.7), served here.

- ``handlers``: the three endpoints, upstream's handler classes with colab-local's fixes;
- ``upstream``: importing upstream on today's stack, and its defects, each with its answer;
- ``auth``: who the client is, from the auth URL's token, decided inside the server;
- ``messages``: request messages parsed once and checked;
- ``dispatch``: tunnelled requests answered by this server's own application, in process;
- ``relay``: proxied WebSockets, connected only to this server's own sockets.
"""

from __future__ import annotations

from jupyter_server.utils import url_path_join

from colab_local.tunnel.handlers import HANDLERS, PROTOCOL_VERSION, TunnelHandler

__all__ = ["PROTOCOL_VERSION", "TunnelHandler", "handler_rules"]


def handler_rules(base_url: str) -> list[tuple[str, type]]:
    """Tornado URL rules for the endpoints, under the server's ``base_url``."""
    return [(url_path_join(base_url, handler.PATH), handler) for handler in HANDLERS]
