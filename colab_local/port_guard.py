"""A clear message when Colab's port is already taken.

Colab keeps the pasted URL, port included, so colab-local sets ``port_retries=0``: a busy
8888 must stop the server rather than move it to 8889 behind the user's back.
jupyter_server then exits with "port 8888 is not available"; this says what to do.
"""

from __future__ import annotations

import errno
from typing import Any

from tornado.netutil import bind_sockets


def port_is_busy(port: int, ip: str) -> bool:
    """True when binding ``ip:port`` fails because something already listens there."""
    try:
        sockets = bind_sockets(port, ip or None)
    except OSError as e:
        return e.errno == errno.EADDRINUSE
    for sock in sockets:
        sock.close()
    return False


def explain_busy_port(serverapp: Any) -> bool:
    """Log how to free the port when it is busy and will not be retried; return whether it is."""
    if serverapp.sock or serverapp.port_retries or not serverapp.port:
        return False
    port = serverapp.port
    if not port_is_busy(port, serverapp.ip):
        return False
    serverapp.log.critical(
        "colab_local | port %(port)s is already in use, and the server will not move to "
        "another port: the URL saved in Colab names port %(port)s. If it is another Jupyter "
        "server, find it with `jupyter server list` and stop it with "
        "`jupyter server stop %(port)s`; otherwise see what holds it with "
        "`ss -ltnp 'sport = :%(port)s'`. To use another port on purpose, start with "
        "--port=<port> and forward that port in your SSH tunnel.",
        {"port": port},
    )
    return True
