"""Tunnelled requests dispatched inside the server, not over a loopback HTTP hop.

Upstream answers each tunnel message by making a new HTTP request to this same server.
That costs a connection per message and, for large responses, a second copy of every
byte through the loopback. Here each message is handed to the server's own tornado
application through the public interface its HTTP server uses
(``HTTPServerConnectionDelegate.start_request`` and the message delegate's
``headers_received``, ``data_received``, ``finish``): same request building, routing,
body parsing and streaming (``@stream_request_body``), same handlers, same authentication
(the client's credentials: its auth URL's token, or its own cookies), XSRF (``_xsrf``
argument for unsafe methods), origin, host and CORS checks, same transforms.
Only the "connection" differs: :class:`TunnelConnection` turns what the handler writes
into the protocol's messages, one chunk at a time, with back-pressure from the socket.

Wire format, as upstream's ``_StreamingResponseEmitter``: the first message carries
``status``, ``statusText`` and ``headers``; one message is held back so that the last one
carries ``done: true``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import types
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from tornado import httputil
from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.iostream import StreamClosedError

from colab_local.http_over_ws.auth import CREDENTIAL_HEADERS, Credentials
from colab_local.http_over_ws.messages import TunnelMessage

#: Response bytes per tunnel message, at most: upstream's tests pin 64 KiB (tornado's
#: read size), so that Colab's page parses each message in bounded time. A large body
#: streams in such pieces, the client decoding one while the server encodes the next.
CHUNK_BYTES = 64 * 1024
#: Methods for which upstream adds the ``_xsrf`` cookie value as an argument.
XSRF_METHODS = frozenset({"DELETE", "PATCH", "POST", "PUT"})
#: Headers that belong to a WebSocket upgrade itself: neither a dispatched request nor a
#: relayed upgrade takes them from the client's. (The subprotocol too: relayed sockets
#: speak Jupyter's default kernel protocol on both sides.)
UPGRADE_HEADERS = frozenset(
    {
        "connection",
        "upgrade",
        "content-length",
        "transfer-encoding",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
    }
)
#: Headers of the upgrade not copied to a dispatched request: the upgrade's own, and
#: credentials (``Credentials`` says which ones go).
_NOT_FORWARDED = UPGRADE_HEADERS | {name.lower() for name in CREDENTIAL_HEADERS} | {"referer"}

SendMessage = Callable[[bytes], "Future[None]"]


def _done_future() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


def mark_failure_seen(future: asyncio.Future[None]) -> None:
    """Mark a write's failure as seen: when the client left, nobody else may look."""
    if not future.cancelled():
        future.exception()


def closed_future() -> Future[None]:
    """A write that failed because the client left."""
    future: Future[None] = Future()
    future.set_exception(StreamClosedError())
    return future


class TunnelConnection(httputil.HTTPConnection):
    """Where a dispatched request's handler writes its response: the tunnel.

    Each piece of the body becomes one message, encoded (base64 in JSON) only when the
    piece before it has been handed to the socket: the client decodes one while the
    server encodes the next, and a large body never sits encoded in memory at once. The
    last piece is held back until the handler finishes, so that it can say ``done``.
    """

    def __init__(
        self,
        message_id: Any,
        send: SendMessage,
        context: Any,
        *,
        stall_timeout: float = 0,
        on_stall: Callable[[], None] | None = None,
    ) -> None:
        self.context = context
        self._message_id = message_id
        self._send = send
        self._stall_timeout = stall_timeout
        self._on_stall = on_stall
        self._metadata: dict[str, Any] | None = None
        #: The last piece, base64-encoded, not sent yet.
        self._held: bytes | None = None
        self._sent_any = False
        self._close_callback: Callable[[], None] | None = None
        self.client_gone = False
        #: Why the tunnel's own upgrade was refused (its auth URL's token), for the
        #: contacts noted of its requests (``diagnostics/contact_notes.py``).
        self.tunnel_refusal: str | None = None
        self._tail: asyncio.Future[None] | None = None
        self.finished: Future[None] = Future()

    @property
    def started(self) -> bool:
        """Whether the response's status has been written (its first message is due)."""
        return self._metadata is not None or self._held is not None or self._sent_any

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        self._close_callback = callback

    def on_client_gone(self) -> None:
        """The tunnel closed: stop the handler (its writes fail) and release the waiter."""
        self.client_gone = True
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            callback()
        future_set_result_unless_cancelled(self.finished, None)

    def write_headers(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
        chunk: bytes | None = None,
    ) -> Future[None]:
        assert isinstance(start_line, httputil.ResponseStartLine)
        self._metadata = {
            "status": start_line.code,
            "statusText": start_line.reason,
            # As upstream: a plain dict, repeated headers joined by commas.
            "headers": {name: headers[name] for name in headers},
        }
        return self.write(chunk) if chunk else _done_future()

    def write(self, chunk: bytes) -> Future[None]:
        """Send ``chunk`` a piece at a time; writes run in order, one after the other."""
        if not chunk:  # a flush with nothing new: no message (upstream sends none either)
            return self._tail if self._tail is not None else _done_future()
        if len(chunk) <= CHUNK_BYTES and (self._tail is None or self._tail.done()):
            sent = self._hold(chunk)  # one piece, nothing pending: no task unless it waits
            if sent.done() or self._stall_timeout <= 0:
                return sent
            task = asyncio.ensure_future(self._unless_stalled(sent))
        else:
            task = asyncio.ensure_future(self._write_after(self._tail, chunk))
        task.add_done_callback(mark_failure_seen)
        task.add_done_callback(self._forget_tail)
        self._tail = task
        return task

    def _forget_tail(self, task: asyncio.Future[None]) -> None:
        """Drop a finished write. When the client left, its exception's traceback holds
        the handler's frame (and, for a download, the open file); kept here it would make
        a cycle that only a full garbage collection frees."""
        if self._tail is task:
            self._tail = None

    async def _write_after(self, previous: asyncio.Future[None] | None, chunk: bytes) -> None:
        if previous is not None:
            with contextlib.suppress(StreamClosedError):
                await previous
        view = memoryview(chunk)
        for start in range(0, len(chunk), CHUNK_BYTES):
            await self._unless_stalled(self._hold(view[start : start + CHUNK_BYTES]))

    def _hold(self, piece: bytes | memoryview) -> Future[None]:
        """Hold back ``piece``; send the one held before it. The future: that send."""
        if self.client_gone:
            return closed_future()
        previous, self._held = self._held, base64.b64encode(piece)
        if previous is None:
            return _done_future()
        self._sent_any = True
        return self._send(self._message(previous, done=False))

    async def _unless_stalled(self, sent: Future[None]) -> None:
        """Wait for ``sent``; if the client reads nothing for ``stall_timeout`` seconds,
        give up on it (``on_stall``) and fail the write, which stops the handler."""
        if self._stall_timeout <= 0 or sent.done():
            await sent
            return
        done, _ = await asyncio.wait({sent}, timeout=self._stall_timeout)
        if not done:
            if self._on_stall is not None:
                self._on_stall()
            raise StreamClosedError(real_error=TimeoutError("the client stopped reading"))
        await sent

    def finish(self) -> None:
        # RequestHandler.finish() calls this right after its last write, without waiting.
        if self._tail is not None and not self._tail.done():
            self._tail.add_done_callback(lambda _: self._finish_now())
        else:
            self._finish_now()

    def _finish_now(self) -> None:
        last, self._held = self._held, None
        if not self.client_gone:
            self._sent_any = True
            self._send(self._message(last, done=True))
        future_set_result_unless_cancelled(self.finished, None)

    def _message(self, data: bytes | None, *, done: bool) -> bytes:
        """One protocol message; the status and headers ride on the first.

        ``data`` is base64, which JSON never escapes: it is spliced in as it is rather
        than run through the JSON encoder.
        """
        head: dict[str, Any] = {"message_id": self._message_id}
        if self._metadata is not None:
            head.update(self._metadata)
            self._metadata = None
        head["done"] = done
        text = json.dumps(head).encode()
        if data is None:
            return text
        return b"".join((text[:-1], b', "data": "', data, b'"}'))


def request_head(
    tunnel_request: httputil.HTTPServerRequest,
    message: TunnelMessage,
    credentials: Credentials,
) -> tuple[httputil.RequestStartLine, httputil.HTTPHeaders]:
    """The start line and headers of the request a tunnel message stands for.

    It carries the tunnel upgrade's headers (Host, Origin, User-Agent, ...) with the
    client's ``credentials`` (its auth URL's token, or its own cookies, as upstream): the
    request Jupyter sees is the one the client could have sent itself.
    """
    uri = message.path
    if message.method in XSRF_METHODS and credentials.xsrf:
        uri += ("&" if "?" in uri else "?") + urlencode({"_xsrf": credentials.xsrf})
    headers = httputil.HTTPHeaders()
    for name, value in tunnel_request.headers.get_all():
        if name.lower() not in _NOT_FORWARDED:
            headers.add(name, value)
    headers.update(credentials.headers)
    # A same-origin Referer lets cookie-authenticated GETs of /files/... through
    # Jupyter's cross-site-inclusion check (defect 6).
    headers["Referer"] = f"{tunnel_request.protocol}://{tunnel_request.host}/"
    if message.body:
        headers["Content-Length"] = str(len(message.body))
    return httputil.RequestStartLine(message.method, uri, "HTTP/1.1"), headers


def connection_context(tunnel_request: httputil.HTTPServerRequest) -> Any:
    """What a dispatched request learns of its peer: the tunnel client's address."""
    return types.SimpleNamespace(
        remote_ip=tunnel_request.remote_ip,
        protocol=tunnel_request.protocol,
        address=getattr(getattr(tunnel_request.connection, "context", None), "address", None),
    )


async def dispatch(
    application: httputil.HTTPServerConnectionDelegate,
    tunnel_request: httputil.HTTPServerRequest,
    message: TunnelMessage,
    credentials: Credentials,
    connection: TunnelConnection,
) -> None:
    """Hand ``message`` to the application as tornado's HTTP server hands a request over.

    Through the public ``HTTPServerConnectionDelegate`` interface (``start_request``, then
    ``headers_received``, ``data_received`` and ``finish`` on its message delegate): the
    application builds the request, routes it, parses a form body once, and streams the
    body to a ``@stream_request_body`` handler in pieces, with its flow control, exactly as
    on a direct connection. Returns once the response is written (or the client left).
    Raises ``HTTPInputError`` for a body the server would answer with 400.
    """
    start_line, headers = request_head(tunnel_request, message, credentials)
    delegate = application.start_request(tunnel_request.server_connection, connection)
    flow = delegate.headers_received(start_line, headers)
    if flow is not None:
        await flow
    body = memoryview(message.body)
    for start in range(0, len(body), CHUNK_BYTES):
        if connection.client_gone:
            delegate.on_connection_close()
            return
        flow = delegate.data_received(bytes(body[start : start + CHUNK_BYTES]))
        if flow is not None:
            await flow
    delegate.finish()
    await asyncio.shield(connection.finished)
