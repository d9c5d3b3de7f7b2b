"""Colab's HTTP-over-WebSocket endpoints, served with jupyter_http_over_ws's handlers.

The protocol (message format, streaming, version checks, diagnose answers) is upstream's.
The subclasses here plug in the fixes from ``http_over_ws_compat``, authenticate once per
connection instead of once per message, and answer tunnelled requests inside the server
(``tunnel_dispatch``) instead of over a loopback HTTP hop.

The WebSocket upgrades themselves need no login (also with
``ServerApp.allow_unauthenticated_access=False``): the upgrade grants nothing. Every
tunnelled request and every proxied WebSocket is authenticated by Jupyter with the
cookies the auth URL (``?token=...``) earns, and every upgrade is origin-checked against
``allow_origin``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.utils import url_path_join
from tornado import httpclient, websocket
from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

from colab_local.http_over_ws_compat import (
    auth_cookies,
    import_upstream_handlers,
    server_certfile,
)
from colab_local.state import SETTINGS_KEY, ColabState
from colab_local.tunnel_dispatch import (
    TunnelConnection,
    closed_future,
    connection_context,
    dispatch,
    dispatched_request,
    encode_message,
    mark_failure_seen,
)
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


@dataclass(frozen=True)
class Authentication:
    """What the auth URL earned: Jupyter's login and XSRF cookies."""

    cookies: dict[str, str]
    referer: str

    def headers(self) -> dict[str, str]:
        # A same-origin Referer lets authenticated GETs of /files/... through Jupyter's
        # cross-site-inclusion check (defect 6).
        headers = {"Referer": self.referer}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers


class _ColabSocketMixin:
    """What every colab-local HTTP-over-WebSocket handler changes in upstream's base."""

    request: Any
    settings: dict[str, Any]
    ca_certs: str | None

    def __init__(self, application: Any, request: Any, **kwargs: Any) -> None:
        # Upstream's base __init__ runs RequestHandler.__init__ twice and, for HTTPS,
        # reads the NotebookApp certfile jupyter_server never sets (defect 4).
        websocket.WebSocketHandler.__init__(self, application, request, **kwargs)  # type: ignore[arg-type]
        # The auth URL carries the token; tornado logs the request URI on errors (defect
        # 7). Arguments stay parsed in request.query_arguments, where the handshake reads them.
        request.uri = without_query_param(request.uri, AUTH_URL_PARAM)
        request.query = without_query_param(f"?{request.query}", AUTH_URL_PARAM)[1:]
        self.ca_certs = server_certfile(self.settings) if request.protocol == "https" else None
        self._authentication: Authentication | None = None

    @property
    def max_message_size(self) -> int:
        state: ColabState = self.settings[SETTINGS_KEY]
        return state.options.max_message_size

    @allow_unauthenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        await websocket.WebSocketHandler.get(self, *args, **kwargs)  # type: ignore[arg-type]

    async def authenticate(self) -> Authentication | None:
        """Request the auth URL once per connection (defect 5); None without one."""
        if self._authentication is None:
            self._authentication = await self._fetch_authentication()
        return self._authentication

    async def _attach_auth_cookies(self) -> None:
        """Upstream's hook (proxied sockets): the relayed upgrade carries the cookies."""
        authentication = await self.authenticate()
        if authentication is not None:
            self.request.headers.update(authentication.headers())

    async def _fetch_authentication(self) -> Authentication | None:
        auth_url = self.get_argument(AUTH_URL_PARAM, default="")  # type: ignore[attr-defined]
        if not auth_url:
            return None
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
        return Authentication(
            cookies=auth_cookies(response.headers.get_list("Set-Cookie")),
            referer=f"{self.request.protocol}://{self.request.host}/",
        )


class TunnelHandler(_ColabSocketMixin, upstream.HttpOverWebSocketHandler):  # type: ignore[misc]
    """``/http_over_websocket``: each message is an HTTP request to this server.

    Upstream's ``open`` checks ``min_version``; messages are answered here, one at a time
    per connection as upstream does, each dispatched inside the server.
    """

    _in_flight: TunnelConnection | None = None

    async def on_message(self, message: str | bytes) -> None:
        rejection = check_message(message)
        if rejection is not None:
            self.log.warning("colab_local | tunnel message refused: %s", rejection.reason)
            self._write_error(status=400, msg=rejection.reason, message_id=rejection.message_id)
            return
        contents = json.loads(message)
        message_id = contents["message_id"]
        try:
            authentication = await self.authenticate()
        except AuthURLError as e:
            self.log.warning("colab_local | tunnel authentication failed: %s", e.reason)
            self._write_error(status=e.status, msg=e.reason, message_id=message_id)
            return
        connection = TunnelConnection(message_id, self._send, connection_context(self.request))
        request = dispatched_request(
            self.request,
            contents,
            authentication.headers() if authentication else {},
            authentication.cookies.get("_xsrf") if authentication else None,
            connection,
        )
        self._in_flight = connection
        try:
            await dispatch(self.application, request, connection)
        finally:
            self._in_flight = None

    def _send(self, message: dict[str, Any]) -> Future[None]:
        """Queue one message; the future fails with StreamClosedError if the client left.

        StreamClosedError is what tornado's handlers expect from a closed connection
        (StaticFileHandler, for one, then stops quietly). The write itself runs from the
        event loop, not inside the handler's call stack: a broken pipe raised there is
        kept by the closed stream, and its traceback would otherwise pin the handler's
        frames (and a download's open file) until the next full garbage collection.
        """
        written: Future[None] = Future()
        # Not every write is awaited (a handler awaits only its last); a failure nobody
        # awaits is expected when the client leaves, not an error to report.
        written.add_done_callback(mark_failure_seen)
        IOLoop.current().add_callback(self._write_now, message, written)
        return written

    def _write_now(self, message: dict[str, Any], written: Future[None]) -> None:
        text = encode_message(message)
        del message
        try:
            future = self.write_message(text)
        except websocket.WebSocketClosedError:
            future = closed_future()
        future.add_done_callback(functools.partial(_relay_outcome, written))
        # A broken pipe raised inside write_message keeps this frame (through its
        # traceback's frame chain) for as long as the closed stream lives: drop what it
        # would otherwise keep alive.
        del written, text, future

    def on_close(self) -> None:
        if self._in_flight is not None:
            self._in_flight.on_client_gone()


class DiagnoseHandler(_ColabSocketMixin, upstream.HttpOverWebSocketDiagnosticHandler):  # type: ignore[misc]
    """``/http_over_websocket/diagnose``: the extension version, for Colab's checks."""


class ProxiedSocketHandler(_ColabSocketMixin, upstream.ProxiedSocketHandler):  # type: ignore[misc]
    """``/http_over_websocket/proxied_ws/<path>``: a WebSocket relayed to ``/<path>``."""

    def __init__(self, application: Any, request: Any, **kwargs: Any) -> None:
        super().__init__(application, request, **kwargs)
        self._proxied_ws_future = None

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


def _relay_outcome(written: Future[None], done: Future[None]) -> None:
    if done.cancelled() or done.exception() is not None:
        written.set_exception(StreamClosedError())
    else:
        written.set_result(None)


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
