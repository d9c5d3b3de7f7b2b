"""A clear message when the server's port is already taken.

The user's SSH tunnel and the URL saved in Colab depend on the port, so colab-local sets
``port_retries=0``: a busy port must stop the server rather than move it behind the
user's back. jupyter_server then exits with "port 8888 is not available"; this says what
to do, including which free port a second user of a shared server can take.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from tornado.netutil import bind_sockets

from colab_local.connection_info import LAPTOP_PORT, tunnel_command

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp


def _bind_error(port: int, ip: str) -> OSError | None:
    """Why ``ip:port`` cannot be bound just now, or None when it can (nothing stays bound)."""
    try:
        sockets = bind_sockets(port, ip or None)
    except OSError as e:
        return e
    for sock in sockets:
        sock.close()
    return None


def port_is_busy(port: int, ip: str) -> bool:
    """True when binding ``ip:port`` fails because something already listens there."""
    error = _bind_error(port, ip)
    return error is not None and error.errno == errno.EADDRINUSE


def free_port_near(port: int, ip: str, tries: int = 100) -> int | None:
    """The first port after ``port`` that can be bound on ``ip``, or None."""
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        if _bind_error(candidate, ip) is None:
            return candidate
    return None


def explain_busy_port(serverapp: ServerApp) -> bool:
    """Log how to free the port, or which one to use instead, when it is busy and will
    not be retried; return whether it is."""
    if serverapp.sock or serverapp.port_retries or not serverapp.port:
        return False
    port = serverapp.port
    if not port_is_busy(port, serverapp.ip):
        return False
    free = free_port_near(port, serverapp.ip)
    elsewhere = (
        f"If someone else uses it (a shared server), start yours on a free port, e.g. "
        f"`jupyter notebook --port={free}`, and on your laptop run "
        f"`{tunnel_command(LAPTOP_PORT, free)}`: the URL in Colab keeps "
        f"localhost:{LAPTOP_PORT}."
        if free is not None
        else "If someone else uses it, start yours with --port=<a free port> and forward "
        "that port in your SSH tunnel."
    )
    serverapp.log.critical(
        "colab_local | port %(port)s is already in use, and the server will not move to "
        "another port behind your back (your SSH tunnel and the URL saved in Colab name "
        "it). If it is another Jupyter server of yours, find it with `jupyter server list` "
        "and stop it with `jupyter server stop %(port)s`; `ss -ltnp 'sport = :%(port)s'` "
        "shows what holds it. %(elsewhere)s",
        {"port": port, "elsewhere": elsewhere},
    )
    return True
