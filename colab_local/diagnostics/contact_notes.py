"""Noting each request of Colab's page for ``diagnostics.contacts`` ("is Colab reaching me?").

Every request the server finishes passes tornado's ``log_function`` (WebSocket upgrades
too, and the tunnel's requests, dispatched inside the server); the ones whose ``Origin``
is Colab's are noted before the access log line is written, never the token they carry.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from jupyter_server.log import log_request as jupyter_log_request

from colab_local.config import COLAB_ORIGIN, origin_allowed
from colab_local.diagnostics.contacts import (
    DIRECT,
    MISSING_TOKEN,
    ORIGIN,
    RELAYED,
    TUNNEL,
    WRONG_TOKEN,
    XSRF,
    Contact,
    ContactLog,
)
from colab_local.http_over_ws.auth import AUTH_URL_PARAM
from colab_local.http_over_ws.dispatch import TunnelConnection
from colab_local.http_over_ws.relay import RELAY_MARK, RELAY_MARK_HEADER

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp
    from tornado.web import RequestHandler

_TUNNEL_PATH = "http_over_websocket"
_RELAYED_PATH = "http_over_websocket/proxied_ws/"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _presented_token(handler: RequestHandler) -> str | None:
    """The token the request offered (query, Authorization header, or the auth URL).

    Read from the parsed arguments: the tunnel's handlers take the auth URL out of the
    request URI (so it is never logged) but keep it there."""
    request = handler.request
    arguments = request.query_arguments

    def argument(name: str) -> str:
        values = arguments.get(name) or [b""]
        return values[0].decode("utf-8", "replace")

    if argument("token"):
        return argument("token")
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    auth_url = argument(AUTH_URL_PARAM)
    if auth_url:
        return parse_qs(urlsplit(auth_url).query).get("token", [""])[0] or None
    return None


def _proven(handler: RequestHandler, serverapp: ServerApp) -> bool:
    """Whether the request carried this server's token, or a login that Jupyter accepted."""
    presented = _presented_token(handler)
    if presented:
        expected = str(serverapp.identity_provider.token)
        return bool(expected) and hmac.compare_digest(presented.encode(), expected.encode())
    try:
        return handler.current_user is not None
    except RuntimeError:  # Jupyter never authenticated it (an unknown path, say)
        return False


def _refusal(handler: RequestHandler, serverapp: ServerApp, flow: str, proven: bool) -> str | None:
    status = handler.get_status()
    credentials = getattr(handler, "credentials", None)  # the tunnel's own decision
    refused_inside = flow != DIRECT and credentials is not None and not credentials.authenticated
    if status not in (401, 403) and not refused_inside:
        return None
    if not proven:
        return WRONG_TOKEN if _presented_token(handler) else MISSING_TOKEN
    if not origin_allowed(COLAB_ORIGIN, serverapp.allow_origin, serverapp.allow_origin_pat):
        return ORIGIN
    if handler.request.method in _UNSAFE:
        return XSRF
    return None


def _flow(handler: RequestHandler, base_url: str) -> str:
    if isinstance(handler.request.connection, TunnelConnection):
        return TUNNEL
    path = handler.request.path
    relative = path[len(base_url) :] if path.startswith(base_url) else path.lstrip("/")
    if relative.startswith(_RELAYED_PATH):
        return RELAYED
    if relative.rstrip("/") == _TUNNEL_PATH:
        return TUNNEL
    return DIRECT


def note_colab_contacts(serverapp: ServerApp, contacts: ContactLog) -> None:
    """At load time: every finished request passes here, then on to the access log."""
    settings = serverapp.web_app.settings
    log_request: Callable[[RequestHandler], None] = settings.get("log_function") or (
        jupyter_log_request
    )
    base_url = settings.get("base_url", "/")

    def log_function(handler: RequestHandler) -> None:
        try:
            headers = handler.request.headers
            if headers.get("Origin") == COLAB_ORIGIN and headers.get(RELAY_MARK_HEADER) != (
                RELAY_MARK
            ):
                flow = _flow(handler, base_url)
                proven = _proven(handler, serverapp)
                refusal = _refusal(handler, serverapp, flow, proven)
                connection = handler.request.connection
                if isinstance(connection, TunnelConnection) and refusal == MISSING_TOKEN:
                    # Its credentials are the tunnel's: refused for the tunnel's reason.
                    refusal = connection.tunnel_refusal or refusal
                elif flow == TUNNEL:  # the upgrade: its requests' reason, if refused
                    handler.colab_refusal = refusal  # type: ignore[attr-defined]
                contacts.note(
                    Contact(
                        time.time(),
                        flow,
                        handler.request.method or "",
                        handler.request.path,
                        handler.get_status(),
                        refusal,
                        proven and refusal not in (MISSING_TOKEN, WRONG_TOKEN),
                    )
                )
        except Exception:  # noting must never break a request or its log line
            serverapp.log.debug("colab_local | cannot note a contact", exc_info=True)
        log_request(handler)

    if not getattr(log_request, "_colab_local_contacts", False):
        log_function._colab_local_contacts = True  # type: ignore[attr-defined]
        settings["log_function"] = log_function
