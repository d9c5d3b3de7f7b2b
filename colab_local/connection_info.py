"""What a user needs to connect Colab: the URL to paste and the SSH tunnel command.

Two ports are involved: the server's, and the laptop's end of the tunnel, which is what
the URL in Colab names. They differ on a shared server (each user on a port of their
own) or when the laptop's 8888 is taken. The server cannot know the laptop's port; a
page reached through the tunnel can read it off the browser's ``Host`` header, for
display only. Elsewhere (banner, CLI) the laptop end is Colab's usual 8888.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from jupyter_server.utils import url_path_join

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

#: The laptop's end of the tunnel when nothing says otherwise: Colab's default.
LAPTOP_PORT = 8888


def colab_url(laptop_port: int, base_url: str = "/", token: str = "") -> str:
    """The URL to paste into Colab: the server root on the laptop's end of the tunnel."""
    root = url_path_join(f"http://localhost:{laptop_port}", base_url or "/")
    if not root.endswith("/"):
        root += "/"
    return f"{root}?{urlencode({'token': token})}" if token else root


def tunnel_command(
    laptop_port: int, server_port: int, user: str | None = None, host: str | None = None
) -> str:
    """The laptop-side command that forwards ``localhost:<laptop_port>`` to this server."""
    user = user or getpass.getuser()
    host = host or socket.gethostname()
    return f"ssh -N -L {laptop_port}:localhost:{server_port} {user}@{host}"


def browser_port(host_header: str, protocol: str = "http") -> int | None:
    """The port the browser used, from a ``Host`` header: for display, never to connect."""
    try:
        parts = urlsplit(f"{protocol}://{host_header}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return port or (443 if protocol == "https" else 80)


def server_colab_url(serverapp: ServerApp, laptop_port: int = LAPTOP_PORT) -> str:
    return colab_url(laptop_port, serverapp.base_url, serverapp.identity_provider.token)


def banner_lines(serverapp: ServerApp, problems: Sequence[str] = ()) -> list[str]:
    """The block printed once the server listens; ``problems``: each setting Colab cannot
    use (or should not), with its fix, said before the URL is offered."""
    url = server_colab_url(serverapp)
    lines = ["", "=" * 72, "colab-local: connect Google Colab to this server"]
    for problem in problems:
        lines.append(f"  WARNING: {problem}")
    lines += [
        f"  1. On your laptop:  {tunnel_command(LAPTOP_PORT, serverapp.port)}",
        "  2. In Colab: Connect > Connect to a local runtime, and paste:",
        f"       {url}",
    ]
    if not serverapp.identity_provider.token:
        lines.append(
            "     (no token is set: Colab cannot authenticate; see ColabLocal.persist_token)"
        )
    lines += [
        "  The URL and the server's health, any time: "
        f"{url_path_join(url.split('?')[0], 'colab/connect')} (through the tunnel) "
        "or `jupyter colab url`",
        "=" * 72,
    ]
    return lines
