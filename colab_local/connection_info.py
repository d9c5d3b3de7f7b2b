"""What a user needs to connect Colab: the URL to paste and the SSH tunnel command."""

from __future__ import annotations

import getpass
import socket
from typing import Any
from urllib.parse import urlencode

from jupyter_server.utils import url_path_join


def colab_url(port: int, base_url: str = "/", token: str = "") -> str:
    """The URL to paste into Colab: the server root on the laptop's end of the tunnel."""
    root = url_path_join(f"http://localhost:{port}", base_url or "/")
    if not root.endswith("/"):
        root += "/"
    return f"{root}?{urlencode({'token': token})}" if token else root


def tunnel_command(port: int, user: str | None = None, host: str | None = None) -> str:
    """The laptop-side command that forwards ``localhost:<port>`` to this server."""
    user = user or getpass.getuser()
    host = host or socket.gethostname()
    return f"ssh -N -L {port}:localhost:{port} {user}@{host}"


def server_colab_url(serverapp: Any) -> str:
    return colab_url(serverapp.port, serverapp.base_url, serverapp.identity_provider.token)


def banner_lines(serverapp: Any) -> list[str]:
    url = server_colab_url(serverapp)
    lines = [
        "",
        "=" * 72,
        "colab-local: connect Google Colab to this server",
        f"  1. On your laptop:  {tunnel_command(serverapp.port)}",
        "  2. In Colab: Connect > Connect to a local runtime, and paste:",
        f"       {url}",
    ]
    if not serverapp.identity_provider.token:
        lines.append(
            "     (no token is set: Colab cannot authenticate; see ColabLocal.persist_token)"
        )
    lines += [
        "  The URL and the server's health, any time: "
        f"{url_path_join(url.split('?')[0], 'colab/connect')} or `jupyter colab url`",
        "=" * 72,
    ]
    return lines
