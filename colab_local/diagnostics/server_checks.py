"""Checks of this server's own settings: what Colab needs from its configuration.

Cheap and synchronous: they read settings and a file, nothing else.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from typing import TYPE_CHECKING

from jupyter_server.utils import url_path_join

from colab_local.config import COLAB_ORIGIN, ColabLocal
from colab_local.connection_info import LAPTOP_PORT, tunnel_command
from colab_local.diagnostics.check import Check
from colab_local.http_over_ws import handlers as tunnel
from colab_local.server_config.colab_settings import origin_problem
from colab_local.server_config.server_token import explicit_token_source, token_path

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

LOCAL_HOSTNAMES = ("localhost", "localhost.localdomain")


def _is_local_only(ip: str) -> bool:
    if ip in LOCAL_HOSTNAMES:
        return True
    try:
        return ipaddress.ip_address(ip.strip("[]")).is_loopback
    except ValueError:
        return False


def _tunnel_registered(serverapp: ServerApp) -> bool:
    for host_rule in serverapp.web_app.default_router.rules:
        for rule in getattr(host_rule.target, "rules", []):
            if rule.target is tunnel.TunnelHandler:
                return True
    return False


def check_extension(serverapp: ServerApp) -> Check:
    path = url_path_join(serverapp.base_url, tunnel.TunnelHandler.PATH)
    if _tunnel_registered(serverapp):
        return Check(
            "colab-local loaded",
            True,
            f"HTTP-over-WebSocket protocol {tunnel.PROTOCOL_VERSION} served at {path}",
        )
    return Check(
        "colab-local loaded",
        False,
        "the HTTP-over-WebSocket endpoints are not served",
        "reinstall colab-local (pip install --force-reinstall colab-local) and restart",
    )


def check_origin(serverapp: ServerApp) -> Check:
    problem = origin_problem(serverapp.allow_origin, serverapp.allow_origin_pat)
    if problem is None:
        return Check("allowed origin", True, f"Colab's origin {COLAB_ORIGIN} is allowed")
    return Check(
        "allowed origin",
        False,
        problem,
        f"remove your allow_origin setting (colab-local then sets {COLAB_ORIGIN}), or start "
        f"with --ServerApp.allow_origin={COLAB_ORIGIN}",
    )


def check_credentials(serverapp: ServerApp) -> Check:
    if serverapp.allow_credentials:
        return Check("credentials allowed", True, "Access-Control-Allow-Credentials: true")
    return Check(
        "credentials allowed",
        False,
        "allow_credentials is False; Colab sends credentials and is refused",
        "remove your allow_credentials setting, or start with --ServerApp.allow_credentials=True",
    )


def check_port(serverapp: ServerApp, configured_port: int) -> Check:
    """Healthy on the port the user configured (any port); failing only when Jupyter's
    ``port_retries`` moved the server off it, which breaks the URL saved in Colab."""
    port, retries = serverapp.port, serverapp.port_retries
    if port != configured_port:
        return Check(
            "port",
            False,
            f"port {configured_port} was busy at start, so the server moved to {port} "
            f"(port_retries={retries}): the URL saved in Colab, and your tunnel, name "
            f"{configured_port}",
            f"free port {configured_port} (`jupyter server list`, `jupyter server stop "
            f"{configured_port}`) and restart; or forward the new port: "
            f"{tunnel_command(LAPTOP_PORT, port)}",
        )
    detail = f"listening on {port}"
    if retries:
        detail += (
            f"; port_retries={retries}: were {port} busy at a restart, the server would "
            "move to another port"
        )
    return Check("port", True, detail)


def check_token(serverapp: ServerApp, options: ColabLocal, persisted_token: str | None) -> Check:
    token = serverapp.identity_provider.token
    if not token:
        return Check(
            "token",
            False,
            "no token is set; Colab authenticates with ?token= and cannot log in",
            "remove IdentityProvider.token='' from your configuration and restart",
        )
    path = token_path(options)
    try:
        info = os.lstat(path)
        stored = path.read_text().strip() if stat.S_ISREG(info.st_mode) else ""
    except OSError:
        info, stored = None, ""
    if persisted_token is not None and persisted_token == token and stored != token:
        return Check(
            "token",
            True,
            f"this server uses the token it started with (the URL below works); the token in "
            f"{path} was rotated since: when the server restarts, it takes the new one and "
            "Colab needs the new URL (jupyter colab url)",
        )
    if info is not None and stored == token:
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            return Check(
                "token",
                False,
                f"persisted in {path}, but readable by others (mode {mode:04o})",
                f"chmod 600 {path}",
            )
        return Check("token", True, f"persisted privately in {path} (mode {mode:04o})")
    source = explicit_token_source(serverapp.config, os.environ)
    if source is not None and persisted_token is None:
        return Check(
            "token",
            True,
            f"your own token, from {source}; it stays the same as long as that setting does",
        )
    if not options.persist_token:
        return Check(
            "token",
            False,
            "a new token at every start: the URL saved in Colab breaks at each restart",
            "remove --ColabLocal.persist_token=False, or set your own IdentityProvider.token",
        )
    return Check(
        "token",
        False,
        f"the server's token is not the one persisted in {path}; the URL changes at restart",
        "restart the server and read its log for the reason (jupyter colab token --rotate "
        "writes a fresh token file)",
    )


def check_bind(serverapp: ServerApp) -> Check:
    ip = serverapp.ip
    if _is_local_only(ip):
        return Check(
            "listens on localhost only", True, f"bound to {ip}; the SSH tunnel needs no more"
        )
    shown = ip or "all interfaces"
    return Check(
        "listens on localhost only",
        False,
        f"bound to {shown}: a server that runs arbitrary code is reachable from the network, "
        "over plain HTTP, guarded only by the token",
        "restart without --ip (Jupyter's default is localhost); reach it through the SSH tunnel",
    )


#: What each browser will ask when Colab's page reaches localhost, and what to do.
BROWSERS = (
    (
        "Chrome and Edge",
        "ask whether colab.research.google.com may access apps and services on this "
        "device (or devices on your local network): choose Allow. If you blocked it, "
        "allow it again from the site's settings (the icon left of the address).",
    ),
    (
        "Firefox",
        "may ask the same (its local network access prompt is rolling out): allow it.",
    ),
    (
        "Safari",
        "blocks http://localhost from an https page (mixed content), so it cannot use a "
        "local runtime: use another browser.",
    ),
)


def check_browser() -> Check:
    """What each browser will ask (the page shows the same as a list of its own)."""
    detail = " ".join(f"{name} {what}" for name, what in BROWSERS)
    return Check("browser", True, detail, informational=True)
