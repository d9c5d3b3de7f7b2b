"""Who a tunnel client is, decided inside the server.

Colab's page hands the tunnel endpoints an *auth URL*: the URL the user pasted,
``http://localhost:<laptop port>/?token=...``. Upstream fetched that URL over the network
to collect login cookies. Through an SSH tunnel the laptop's port is not the server's:
the fetch went to whatever listens on that port *on the server* (nothing, or another
user's process, which then received the token), and since the URL comes from the client,
the fetch was a request forgery (SSRF) that needed no token at all.

Here nothing is ever fetched. The auth URL only has to name the host and port this
request came in on (the ``Host`` header: what the browser used, any loopback name, any
port; Jupyter's own host check has already vetted it); its ``token`` is what counts, and
Jupyter's identity provider checks it in process, exactly as it checks ``?token=`` on
any request. Tunnelled requests and the relayed WebSocket then carry that token as an
``Authorization`` header to this same server. Without an auth URL, the client's own
cookies (and Authorization header) authenticate, as upstream.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from jupyter_server.base.handlers import JupyterHandler
from tornado import httputil

AUTH_URL_PARAM = "jupyter_http_over_ws_auth_url"
#: The headers that carry a client's credentials to the requests made on its behalf.
CREDENTIAL_HEADERS = ("Authorization", "Cookie")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class AuthURLError(Exception):
    """The auth URL cannot identify this server; the message says why, for the client."""


@dataclass(frozen=True)
class Credentials:
    """What tunnelled requests and relayed sockets carry on the client's behalf."""

    #: Headers to send (Authorization, Cookie); empty when the client proved nothing.
    headers: dict[str, str] = field(default_factory=dict)
    #: The ``_xsrf`` cookie, sent as the ``_xsrf`` argument of unsafe requests (as upstream).
    xsrf: str | None = None
    #: Whether Jupyter's identity provider accepted them.
    authenticated: bool = False
    #: Whether they came from an auth URL (its token) rather than the client's cookies.
    from_auth_url: bool = False


def auth_url_token(request: httputil.HTTPServerRequest, auth_url: str) -> str:
    """The token in ``auth_url``, once the URL is shown to name where ``request`` came in.

    Only the scheme, host and port are compared, with the request's own; the path is
    never used. Raises AuthURLError with a reason fit to show the client.
    """
    expected = f"{request.protocol}://{request.host}"
    refusal = AuthURLError(
        f"{AUTH_URL_PARAM} must be the URL this server was reached at ({expected}/?token=...)"
    )
    try:
        parts = urlsplit(auth_url)
        named = _origin(parts)
        reached = _origin(urlsplit(expected))
    except ValueError:  # a malformed port or host
        raise refusal from None
    if parts.username is not None or parts.password is not None or named != reached:
        raise refusal
    token = parse_qs(parts.query).get("token", [""])[0]
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in token):
        # It would go on as a header value (CR/LF: a broken or forged header).
        raise AuthURLError(f"the token in {AUTH_URL_PARAM} has a space or control character")
    return token


def _origin(parts: SplitResult) -> tuple[str, str | None, int | None]:
    """Scheme, host and port, with the scheme's default port filled in."""
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(scheme)


class _Unconnected(httputil.HTTPConnection):
    """The connection of a request that is only used to ask who its sender is."""

    def __init__(self, context: Any) -> None:
        self.context = context

    def set_close_callback(self, callback: Any) -> None:
        pass


async def is_authenticated(handler: JupyterHandler, headers: dict[str, str]) -> bool:
    """Whether Jupyter's identity provider accepts ``headers``: asked in process.

    A request to this server's root carrying ``headers`` is built but never sent or
    answered; the identity provider (whichever is configured) identifies its user.
    """
    request = handler.request
    probe_request = httputil.HTTPServerRequest(
        start_line=httputil.RequestStartLine("GET", handler.base_url, "HTTP/1.1"),
        headers=httputil.HTTPHeaders({"Host": request.host, **headers}),
        connection=_Unconnected(
            types.SimpleNamespace(remote_ip=request.remote_ip, protocol=request.protocol)
        ),
    )
    probe = JupyterHandler(handler.application, probe_request)
    try:
        user = handler.identity_provider.get_user(probe)
        if inspect.isawaitable(user):
            user = await user
    except Exception as e:  # a custom identity provider failing: not authenticated
        handler.log.warning("colab_local | cannot identify a tunnel client: %s", e)
        return False
    return user is not None


async def client_credentials(handler: JupyterHandler) -> Credentials:
    """The credentials of the client behind ``handler``'s WebSocket upgrade.

    Raises AuthURLError when an auth URL is given that does not name this server.
    """
    auth_url = handler.get_query_argument(AUTH_URL_PARAM, "")
    token = auth_url_token(handler.request, auth_url) if auth_url else ""
    if token:
        headers = {"Authorization": f"token {token}"}
        return Credentials(headers, None, await is_authenticated(handler, headers), True)
    upgrade_headers = handler.request.headers
    headers = {
        name: "; ".join(upgrade_headers.get_list(name))
        for name in CREDENTIAL_HEADERS
        if name in upgrade_headers
    }
    # Parsed as tornado parses it when it checks the argument against the cookie.
    xsrf = httputil.parse_cookie(headers.get("Cookie", "")).get("_xsrf")
    return Credentials(headers, xsrf, await is_authenticated(handler, headers), False)
