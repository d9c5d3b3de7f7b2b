"""Colab's HTTP-over-WebSocket endpoints, served with jupyter_http_over_ws's handlers.

The protocol (message format, version checks, diagnose answers, error shapes) is
upstream's. The subclasses here plug in the fixes from ``upstream``, identify the client
once per connection inside the server (``auth``), answer tunnelled requests inside the
server (``dispatch``) and relay proxied WebSockets only to this server (``relay``).

The WebSocket upgrades themselves need no login by default: the upgrade grants nothing.
Every tunnelled request is authenticated by Jupyter with the credentials the client
proved (the auth URL's token, or its own cookies); a relayed WebSocket is opened only for
a client that proved them, and only to Jupyter's own WebSocket endpoints; every upgrade
is origin-checked against ``allow_origin``. With
``ServerApp.allow_unauthenticated_access=False`` an upgrade without valid credentials is
refused (403), as Jupyter refuses its own anonymous WebSockets then.

Every answer is written with back-pressure (``output``): the next message of a connection
is read once the answer is handed to the socket and the client's unread output is under a
bound, so a client that never reads cannot make the server buffer for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from typing import Any
from urllib.parse import unquote_plus

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.utils import url_path_join
from tornado import httpclient, httputil, web, websocket
from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

from colab_local.http_over_ws.auth import (
    AUTH_URL_PARAM,
    CREDENTIAL_HEADERS,
    AuthURLError,
    Credentials,
    client_credentials,
)
from colab_local.http_over_ws.dispatch import (
    UPGRADE_HEADERS,
    TunnelConnection,
    closed_future,
    connection_context,
    dispatch,
    mark_failure_seen,
)
from colab_local.http_over_ws.messages import Rejection, parse_message
from colab_local.http_over_ws.output import (
    AUTHENTICATED_OUTPUT_LIMIT,
    UNAUTHENTICATED_OUTPUT_LIMIT,
    drained,
)
from colab_local.http_over_ws.relay import connect_to_own_server
from colab_local.http_over_ws.upstream import import_upstream_handlers
from colab_local.runtime import ColabHandlerMixin
from colab_local.workarounds.kernel_sockets import handler_stream, set_nodelay

upstream: Any = import_upstream_handlers()

#: The protocol version served, as Colab's ``min_version`` is compared against it.
PROTOCOL_VERSION = str(upstream.HANDLER_VERSION)

#: Upstream's status for a tunnelled request it could not make (auth URL refused).
SERVER_ERROR = 500
UNCAUGHT_ERROR = "Uncaught server-side exception. Check logs for additional details."
#: Close code when a response already under way cannot be finished.
INTERNAL_ERROR = 1011
#: Close code for a client that breaks the limits (stops reading, floods output).
POLICY_VIOLATION = 1008
#: Largest message before a client is authenticated: a tunnelled request from someone
#: without the token gets Jupyter's 403 anyway; it needs no more, and must not be able
#: to make the server parse, log or hold more. tornado's own limit on a direct request's
#: headers (``max_header_size``), so a path costs the same on both flows.
UNAUTHENTICATED_MESSAGE_LIMIT = 64 * 1024
#: Close codes of a relayed socket, as upstream: the HTTP status of what went wrong.
RELAY_FAILED = 500
NOT_AUTHORIZED = 403
NOT_RELAYED = 404
#: colab-local's own endpoints, relative to ``base_url``: never relayed, so the relay
#: cannot be pointed at itself (``ColabLocal.relayed_websockets`` says what may be).
OWN_ENDPOINTS = re.compile(r"http_over_websocket(/.*)?")


class _ColabSocketMixin(ColabHandlerMixin):
    """What every colab-local HTTP-over-WebSocket handler changes in upstream's base."""

    request: Any
    settings: dict[str, Any]
    log: Any
    ws_connection: Any
    close: Any

    def __init__(self, application: Any, request: Any, **kwargs: Any) -> None:
        # Upstream's base __init__ runs RequestHandler.__init__ twice and, for HTTPS,
        # requires the NotebookApp certfile jupyter_server never sets (defect 4).
        websocket.WebSocketHandler.__init__(self, application, request, **kwargs)  # type: ignore[arg-type]
        # The auth URL carries the token; tornado logs the request URI on errors (defect
        # 7). Arguments stay parsed in request.query_arguments, where they are read.
        request.uri = without_query_param(request.uri, AUTH_URL_PARAM)
        request.query = without_query_param(f"?{request.query}", AUTH_URL_PARAM)[1:]
        self.credentials = Credentials()
        self.auth_error: AuthURLError | None = None
        #: Resolves once the last answer queued with ``_send`` has been written to the stream.
        self._issued: Future[None] | None = None

    @property
    def max_message_size(self) -> int:
        """The configured limit, once the client is authenticated; a small one before."""
        limit: int = self.colab_options.max_message_size
        if self.credentials.authenticated:
            return limit
        return min(limit, UNAUTHENTICATED_MESSAGE_LIMIT)

    def write_message(self, message: str | bytes | dict[str, Any], binary: bool = False) -> Any:
        """Every write, upstream's included: a write that fails because the client left (or
        was closed for not reading) is expected, not an error to report."""
        written = super().write_message(message, binary=binary)  # type: ignore[misc]
        written.add_done_callback(mark_failure_seen)
        return written

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # Answers are bursts of small frames: each goes out at once (kernel_sockets).
        set_nodelay(handler_stream(self))
        return super().open(*args, **kwargs)  # type: ignore[misc]

    @property
    def output_limit(self) -> int:
        """Unread output the client may have before its next message is read."""
        if self.credentials.authenticated:
            return AUTHENTICATED_OUTPUT_LIMIT
        return UNAUTHENTICATED_OUTPUT_LIMIT

    async def output_drained(self) -> None:
        """Wait until the client's unread output is under ``output_limit``; a client that
        reads nothing for ``stalled_client_timeout`` is closed (StreamClosedError)."""
        if self._issued is not None:
            await self._issued
        connection = self.ws_connection
        await drained(
            connection.stream if connection is not None else None,
            self.output_limit,
            self.colab_options.stalled_client_timeout,
            self._on_stall,
        )

    def _on_stall(self) -> None:
        timeout = self.colab_options.stalled_client_timeout
        self.log.warning(
            "colab_local | a client of %s read nothing for %gs: closing its connection",
            self.request.path,
            timeout,
        )
        connection = self.ws_connection
        self.close(POLICY_VIOLATION, f"the client read nothing for {timeout:g} s")
        # The close frame would only queue behind what the client does not read.
        if connection is not None:
            connection.stream.close()

    @allow_unauthenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Who the client is, decided before the upgrade is accepted (limits depend on it).
        try:
            self.credentials = await client_credentials(self)  # type: ignore[arg-type]
        except AuthURLError as e:
            self.auth_error = e
        if not self.credentials.authenticated and not getattr(
            self.server, "allow_unauthenticated_access", True
        ):
            # As Jupyter refuses its own anonymous WebSockets with this setting.
            raise web.HTTPError(NOT_AUTHORIZED, "log in with the token or the login cookie")
        await self.before_upgrade()
        await websocket.WebSocketHandler.get(self, *args, **kwargs)  # type: ignore[arg-type]

    async def before_upgrade(self) -> None:
        """What a handler must know before it answers the upgrade (the client is known)."""


class TunnelHandler(_ColabSocketMixin, upstream.HttpOverWebSocketHandler):  # type: ignore[misc]
    """``/http_over_websocket``: each message is an HTTP request to this server.

    Upstream's ``open`` checks ``min_version``; messages are answered here, one at a time
    per connection as upstream does, each dispatched inside the server.
    """

    _in_flight: TunnelConnection | None = None

    async def on_message(self, message: str | bytes) -> None:
        parsed = parse_message(message)
        del message
        try:
            await self._answer(parsed)
            await self.output_drained()
        except StreamClosedError:
            pass  # the client left, or was closed for not reading

    async def _answer(self, parsed: Any) -> None:
        if isinstance(parsed, Rejection):
            self.log.warning("colab_local | tunnel message refused: %s", parsed.reason)
            self._answer_error(400, parsed.reason, parsed.message_id)
            return
        if self.auth_error is not None:
            self.log.warning("colab_local | tunnel request refused: %s", self.auth_error)
            self._answer_error(SERVER_ERROR, str(self.auth_error), parsed.message_id)
            return
        connection = TunnelConnection(
            parsed.message_id,
            self._send,
            connection_context(self.request),
            stall_timeout=self.colab_options.stalled_client_timeout,
            on_stall=self._on_stall,
        )
        connection.tunnel_refusal = getattr(self, "colab_refusal", None)
        self._in_flight = connection
        try:
            await dispatch(self.application, self.request, parsed, self.credentials, connection)
        except httputil.HTTPInputError as e:  # what the HTTP server answers with 400
            self._answer_error(400, str(e), parsed.message_id)
        except Exception:  # a defect here, not in the request: logged, answered as upstream
            self.log.exception("colab_local | uncaught error when proxying request")
            if connection.started:
                self.close(INTERNAL_ERROR, "Uncaught server-side exception.")
            else:
                self._answer_error(SERVER_ERROR, UNCAUGHT_ERROR, parsed.message_id)
        finally:
            self._in_flight = None

    def _answer_error(self, status: int, reason: str, message_id: str | int | None) -> None:
        """Upstream's error answer (``_write_error``), silent when the client has left."""
        with contextlib.suppress(websocket.WebSocketClosedError):
            self._write_error(status=status, msg=reason, message_id=message_id)

    def _send(self, message: bytes) -> Future[None]:
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
        self._issued = Future()
        IOLoop.current().add_callback(self._write_now, message, written, self._issued)
        return written

    def _write_now(self, message: bytes, written: Future[None], issued: Future[None]) -> None:
        future_set_result_unless_cancelled(issued, None)
        try:
            future = self.write_message(message)  # bytes, sent as a text frame (JSON)
        except websocket.WebSocketClosedError:
            future = closed_future()
        future.add_done_callback(functools.partial(_relay_outcome, written))
        # A broken pipe raised inside write_message keeps this frame (through its
        # traceback's frame chain) for as long as the closed stream lives: drop what it
        # would otherwise keep alive.
        del written, message, future

    def on_close(self) -> None:
        if self._in_flight is not None:
            self._in_flight.on_client_gone()


class DiagnoseHandler(_ColabSocketMixin, upstream.HttpOverWebSocketDiagnosticHandler):  # type: ignore[misc]
    """``/http_over_websocket/diagnose``: the extension version, for Colab's checks.

    Upstream echoes each message as the answer's ``message_id``; a binary frame made it
    raise (bytes are not JSON). Here it is echoed as text, invalid UTF-8 replaced.
    """

    async def on_message(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            message = message.decode("utf-8", errors="replace")
        try:
            super().on_message(message)
        except websocket.WebSocketClosedError:
            return
        with contextlib.suppress(StreamClosedError):
            await self.output_drained()

    @property
    def max_message_size(self) -> int:
        # Each message comes back as the answer's message_id: no need for big ones.
        return UNAUTHENTICATED_MESSAGE_LIMIT


class ProxiedSocketHandler(_ColabSocketMixin, upstream.ProxiedSocketHandler):  # type: ignore[misc]
    """``/http_over_websocket/proxied_ws/<path>``: a WebSocket relayed to ``/<path>`` here.

    Only for a client that proved the token (or a login cookie), and only to Jupyter's
    own WebSockets (``ColabLocal.relayed_websockets``): nothing is opened for anyone
    else. Messages go both ways unchanged (binary stays binary), each side read only as
    fast as the other takes it; either side closing closes the other with its code and
    reason, as upstream. Failures close the client's socket with upstream's codes: the relayed
    upgrade's HTTP status (403, 404), else 500.
    """

    def __init__(self, application: Any, request: Any, **kwargs: Any) -> None:
        super().__init__(application, request, **kwargs)
        #: The relayed socket to this server, connected before the client's upgrade is
        #: answered (so the client gets the subprotocol the kernel socket agreed to).
        self._relay: websocket.WebSocketClientConnection | None = None
        #: Why nothing is relayed: the close code and reason the client gets once open.
        self._refused: tuple[int, str] | None = None
        self._pump: asyncio.Future[None] | None = None

    @allow_unauthenticated  # as the mixin's: credentials are decided inside
    async def get(self, *args: Any, **kwargs: Any) -> None:
        try:
            await super().get(*args, **kwargs)
        finally:  # the upgrade refused, or the connection over: nothing left open
            if self._relay is not None:
                self._relay.close()

    async def before_upgrade(self) -> None:
        self._refused = self._refusal()
        if self._refused is not None or not self._origin_accepted():
            return  # a refused origin: tornado answers the upgrade 403 itself
        try:
            self._relay = await connect_to_own_server(
                self.server,
                self._relayed_path(),
                self._relayed_headers(),
                secure=self.request.protocol == "https",
                subprotocols=self._offered_subprotocols(),
            )
        except httpclient.HTTPClientError as e:
            self._refused = (e.code, f"the relayed WebSocket was refused: {e.code} {e.message}")
        except (OSError, StreamClosedError) as e:
            self.log.error("colab_local | cannot relay WebSocket %s: %s", self.request.path, e)
            self._refused = (RELAY_FAILED, f"cannot relay the WebSocket: {e}")
        except Exception:  # a defect here: say so, with its traceback, and close as upstream
            self.log.exception("colab_local | uncaught error when relaying %s", self.request.path)
            self._refused = (RELAY_FAILED, "Uncaught error when proxying request")

    def _refusal(self) -> tuple[int, str] | None:
        """Why this client gets no relayed socket: (close code, reason), or None."""
        if self.auth_error is not None:
            return RELAY_FAILED, str(self.auth_error)
        if not self.credentials.authenticated:
            if self.credentials.from_auth_url:
                return NOT_AUTHORIZED, f"the token in {AUTH_URL_PARAM} is not valid for this server"
            return NOT_AUTHORIZED, "log in with the token or the login cookie"
        allowed = self.colab_options.relayed_websockets
        if not is_relayed_path(self._relayed_path(), self.settings.get("base_url", "/"), allowed):
            return NOT_RELAYED, "only Jupyter's own WebSockets are relayed"
        return None

    def _origin_accepted(self) -> bool:
        """tornado's own origin check, as it makes it when it answers the upgrade."""
        headers = self.request.headers
        origin = (
            headers.get("Origin") if "Origin" in headers else headers.get("Sec-Websocket-Origin")
        )
        return origin is None or bool(self.check_origin(origin))

    def _offered_subprotocols(self) -> list[str] | None:
        offered = self.request.headers.get("Sec-WebSocket-Protocol", "")
        names = [name.strip() for name in offered.split(",") if name.strip()]
        return names or None

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        """The subprotocol the kernel socket agreed to, if the client offered it (the v1
        kernel protocol, for JupyterLab-style clients); else none, as Jupyter answers."""
        chosen = self._relay.selected_subprotocol if self._relay is not None else None
        return chosen if chosen in subprotocols else None

    def open(self, *args: Any, **kwargs: Any) -> None:  # not upstream's: it would relay anyone
        set_nodelay(handler_stream(self))
        if self._refused is not None or self._relay is None:
            self._close_client(*(self._refused or (RELAY_FAILED, "nothing to relay to")))
            return
        self._pump = asyncio.ensure_future(self._from_server(self._relay))

    def _relayed_path(self) -> str:
        """``/<base_url>/<path>?<query>``: the request URI without the endpoint's prefix."""
        prefix: str = upstream.ProxiedSocketHandler._PATH_PREFIX
        root: str = self.settings.get("base_url", "/").rstrip("/")
        uri: str = self.request.uri
        return f"{root}/{uri[len(root + prefix) :]}"

    def _relayed_headers(self) -> dict[str, str]:
        headers = {
            name: value
            for name, value in self.request.headers.get_all()
            if name.lower() not in _NOT_RELAYED
        }
        headers.update(self.credentials.headers)
        return headers

    async def on_message(self, message: str | bytes) -> None:
        relay = self._relay if self._refused is None else None
        if relay is None:
            return
        # The next client message is read once this one is handed to the server's socket.
        with contextlib.suppress(websocket.WebSocketClosedError, StreamClosedError):
            await relay.write_message(message, binary=isinstance(message, bytes))

    async def _from_server(self, relay: websocket.WebSocketClientConnection) -> None:
        """The server's messages to the client, the next read once the client takes this."""
        while True:
            message = await relay.read_message()
            if message is None:
                code, reason = relay.close_code, relay.close_reason
                self._close_client(code or RELAY_FAILED, reason or "the relayed WebSocket closed")
                return
            try:
                self.write_message(message, binary=isinstance(message, bytes))
                await self.output_drained()
            except (websocket.WebSocketClosedError, StreamClosedError):
                relay.close()
                return

    def _close_client(self, code: int, reason: str) -> None:
        if self.ws_connection is not None:
            self.close(code, close_reason(reason))

    def on_close(self) -> None:
        if self._relay is not None:
            self._relay.close(self.close_code, self.close_reason)


def is_relayed_path(uri: str, base_url: str, allowed: list[str]) -> bool:
    """Whether ``uri`` (path and query) under ``base_url`` matches one of ``allowed`` in
    full, and is not one of colab-local's own endpoints."""
    root = base_url.rstrip("/") + "/"
    path = uri.partition("?")[0]
    if not path.startswith(root):
        return False
    relative = path[len(root) :]
    if OWN_ENDPOINTS.fullmatch(relative) or "//" in relative or "/../" in f"/{relative}/":
        return False
    return any(re.fullmatch(pattern, relative) for pattern in allowed)


#: Headers of the client's upgrade not passed to the relayed upgrade: the upgrade's own,
#: and credentials (``Credentials`` says which ones go).
_NOT_RELAYED = UPGRADE_HEADERS | {name.lower() for name in CREDENTIAL_HEADERS}


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
    """``uri`` with every ``name=...`` query parameter removed, the rest untouched.

    Names are compared decoded, as tornado parses them: a percent-encoded spelling of
    ``name`` is the same parameter.
    """
    path, sep, query = uri.partition("?")
    if not sep:
        return uri
    kept = [part for part in query.split("&") if unquote_plus(part.partition("=")[0]) != name]
    return f"{path}?{'&'.join(kept)}" if kept else path


HANDLERS = (TunnelHandler, DiagnoseHandler, ProxiedSocketHandler)


def handler_rules(base_url: str) -> list[tuple[str, type]]:
    """Tornado URL rules for the endpoints, under the server's ``base_url``."""
    return [(url_path_join(base_url, handler.PATH), handler) for handler in HANDLERS]
