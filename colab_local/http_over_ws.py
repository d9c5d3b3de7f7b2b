"""Colab's HTTP-over-WebSocket endpoints, served by jupyter_http_over_ws's own handlers.

The protocol (message format, streaming, version checks, diagnose answers) is upstream's;
the subclasses here only plug in the fixes from ``http_over_ws_compat`` and make the
WebSocket upgrade itself reachable when ``ServerApp.allow_unauthenticated_access`` is
False. That is safe because the upgrade grants nothing: every tunnelled request and every
proxied WebSocket is authenticated by the server itself, with the cookies the auth URL
(``?token=...``) earns, and the upgrade is origin-checked against ``allow_origin``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.utils import url_path_join
from tornado import httpclient, websocket

from colab_local.http_over_ws_compat import (
    auth_cookie_header,
    import_upstream_handlers,
    server_certfile,
)
from colab_local.state import SETTINGS_KEY, ColabState
from colab_local.tunnel_messages import check_message

upstream: Any = import_upstream_handlers()

POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011

#: The protocol version served, as Colab's ``min_version`` is compared against it.
PROTOCOL_VERSION = str(upstream.HANDLER_VERSION)
AUTH_URL_PARAM: str = upstream._AUTH_URL_QUERY_PARAM


#: How long the auth-URL request may take before the client is told it failed.
AUTH_TIMEOUT = 20.0


class AuthURLError(Exception):
    """The auth URL could not authenticate this connection; says why, for the client."""

    def __init__(self, status: int, reason: str, close_code: int) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.close_code = close_code


class _ColabSocketMixin:
    """What every colab-local HTTP-over-WebSocket handler changes in upstream's base."""

    request: Any
    settings: dict[str, Any]
    ca_certs: str | None

    def __init__(self, application: Any, request: Any, **kwargs: Any) -> None:
        # Upstream's base __init__ runs RequestHandler.__init__ twice and, for HTTPS,
        # reads the NotebookApp certfile jupyter_server never sets (defect 4).
        websocket.WebSocketHandler.__init__(self, application, request, **kwargs)  # type: ignore[arg-type]
        self.ca_certs = server_certfile(self.settings) if request.protocol == "https" else None
        self._auth_headers: dict[str, str] | None = None

    @property
    def max_message_size(self) -> int:
        state: ColabState = self.settings[SETTINGS_KEY]
        return state.options.max_message_size

    @allow_unauthenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        await websocket.WebSocketHandler.get(self, *args, **kwargs)  # type: ignore[arg-type]

    async def _attach_auth_cookies(self) -> None:
        """Authenticate with the auth URL once per connection (defects 2 and 5)."""
        if self._auth_headers is None:
            self._auth_headers = await self._fetch_auth_headers()
        self.request.headers.update(self._auth_headers)

    async def _fetch_auth_headers(self) -> dict[str, str]:
        auth_url = self.get_argument(AUTH_URL_PARAM, default="")  # type: ignore[attr-defined]
        if not auth_url:
            return {}
        parsed = urlparse(auth_url)
        # Refuses any scheme, host or port but this server's, before any request is made.
        try:
            upstream._validate_same_domain(self.request, parsed)
        except ValueError:
            raise AuthURLError(
                403,
                f"{AUTH_URL_PARAM} must be this server's own URL "
                f"({self.request.protocol}://{self.request.host}/?token=...)",
                POLICY_VIOLATION,
            ) from None
        request = httpclient.HTTPRequest(
            url=parsed.geturl(),
            method="GET",
            ca_certs=self.ca_certs,
            connect_timeout=AUTH_TIMEOUT,
            request_timeout=AUTH_TIMEOUT,
        )
        try:
            response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        except (httpclient.HTTPClientError, OSError) as e:  # no HTTP answer: timeout, refused
            raise AuthURLError(504, f"the auth URL did not answer: {e}", INTERNAL_ERROR) from None
        if response.error:
            raise AuthURLError(
                502, f"the auth URL answered {response.code} {response.reason}", INTERNAL_ERROR
            )
        headers = {
            # A same-origin Referer lets authenticated GETs of /files/... through
            # Jupyter's cross-site-inclusion check (defect 6).
            "Referer": f"{self.request.protocol}://{self.request.host}/",
        }
        cookie = auth_cookie_header(response.headers.get_list("Set-Cookie"))
        if cookie:
            headers["Cookie"] = cookie
        return headers


class TunnelHandler(_ColabSocketMixin, upstream.HttpOverWebSocketHandler):  # type: ignore[misc]
    """``/http_over_websocket``: each message is an HTTP request to this server."""

    _auth_error: AuthURLError | None = None

    async def on_message(self, message: str | bytes) -> None:
        rejection = check_message(message)
        if rejection is not None:
            self.log.warning("colab_local | tunnel message refused: %s", rejection.reason)
            self._write_error(status=400, msg=rejection.reason, message_id=rejection.message_id)
            return
        await super().on_message(message)

    async def _attach_auth_cookies(self) -> None:
        try:
            await super()._attach_auth_cookies()
        except AuthURLError as e:
            self._auth_error = e
            raise

    def _on_unhandled_exception(self, message_id: Any) -> None:
        # Upstream answers every failure "500 Uncaught server-side exception"; an auth URL
        # that is refused, fails or hangs says so, with its own status.
        error, self._auth_error = self._auth_error, None
        if error is not None:
            self._write_error(status=error.status, msg=error.reason, message_id=message_id)
        else:
            super()._on_unhandled_exception(message_id)


class DiagnoseHandler(_ColabSocketMixin, upstream.HttpOverWebSocketDiagnosticHandler):  # type: ignore[misc]
    """``/http_over_websocket/diagnose``: the extension version, for Colab's checks."""


class ProxiedSocketHandler(_ColabSocketMixin, upstream.ProxiedSocketHandler):  # type: ignore[misc]
    """``/http_over_websocket/proxied_ws/<path>``: a WebSocket relayed to ``/<path>``."""

    def __init__(self, application: Any, request: Any, **kwargs: Any) -> None:
        super().__init__(application, request, **kwargs)
        self._proxied_ws_future = None

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # Upstream relays (and logs at INFO) the full request URI, auth URL and token
        # included (defect 7). The relayed socket is authenticated by cookies, so the auth
        # URL is dropped from the URI; the parsed query arguments keep it for the handshake.
        self.request.uri = without_query_param(self.request.uri, AUTH_URL_PARAM)
        return super().open(*args, **kwargs)

    def _on_unhandled_exception(self, e: Exception) -> None:
        # Upstream closes with the HTTP status as the close code (500 is not a valid
        # WebSocket close code) and a generic reason.
        if isinstance(e, AuthURLError):
            self.close(e.close_code, close_reason(e.reason))
            return
        if isinstance(e, httpclient.HTTPClientError) and e.code in (401, 403):
            self.close(
                POLICY_VIOLATION,
                close_reason(f"not authorized: check the token in {AUTH_URL_PARAM}"),
            )
            return
        self.log.error("colab_local | cannot relay WebSocket %s: %s", self.request.path, e)
        self.close(INTERNAL_ERROR, close_reason(f"cannot relay the WebSocket: {e}"))

    async def _attach_auth_cookies(self) -> None:
        await super()._attach_auth_cookies()
        # The browser's extension offer (permessage-deflate) is not this relay's to accept.
        self.request.headers.pop("Sec-WebSocket-Extensions", None)


def close_reason(text: str) -> str:
    """``text`` cut to fit a WebSocket close frame (123 bytes of reason at most)."""
    encoded = text.encode()
    if len(encoded) <= 123:
        return text
    return encoded[:120].decode(errors="ignore") + "..."


def without_query_param(uri: str, name: str) -> str:
    """``uri`` with every ``name=...`` query parameter removed, the rest untouched."""
    path, sep, query = uri.partition("?")
    if not sep:
        return uri
    kept = [part for part in query.split("&") if part.partition("=")[0] != name]
    return f"{path}?{'&'.join(kept)}" if kept else path


HANDLERS = (TunnelHandler, DiagnoseHandler, ProxiedSocketHandler)


def handler_rules(base_url: str) -> list[tuple[str, type]]:
    """Tornado URL rules for the endpoints, under the server's ``base_url``."""
    return [(url_path_join(base_url, handler.PATH), handler) for handler in HANDLERS]
