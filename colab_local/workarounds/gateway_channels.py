"""Kernel channels through a gateway that end when the gateway's kernel does.

jupyter_server's channel to a gateway kernel (``GatewayWebSocketConnection``) hides the
loss of its kernel from the notebook, and Colab shows a kernel that never answers:

- the gateway keeps its socket open after the kernel is gone (culled with
  ``cull_connected``, deleted on the gateway), so nothing tells the front server;
- when the gateway's socket is lost (a gateway restart) it retries
  ``GatewayClient.gateway_retry_max`` times, against a kernel that may be gone, and then
  goes quiet with the notebook's socket still open;
- (jupyter_server < 2.17) a message sent while the gateway's socket failed to open spins
  the event loop: the message is re-queued on the failed connection forever.

Here the gateway is asked about the kernel (``GET /api/kernels/<id>``, allowed where
listing is not) when a channel opens, when the gateway's socket is lost, and every
``ColabLocal.gateway_kernel_check_interval`` seconds while the channel is open. A kernel
the gateway no longer has is said to be dead on the notebook's IOPub (the status
jupyter_server sends when a restart fails), its socket is closed, and this server forgets
the kernel, so the notebook's next session request gets a new one. A gateway still away
after the retries closes the channel the same way, keeping the kernel (it may come back).

A restart through this server (``POST /api/kernels/<id>/restart``) reopens the gateway's
side of that kernel's open channels: a remote kernel comes back on new ports, and the
gateway's socket, opened on the old ones, would stay silent. The notebook's socket stays
open, and the gateway replays what the kernel said in between (sessions buffer).

Only jupyter_server's own class is replaced: a connection class the user configured is
left as it is.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import random
import sys
import uuid
import weakref
from typing import TYPE_CHECKING, Any

from jupyter_server.gateway.connections import GatewayWebSocketConnection
from jupyter_server.gateway.gateway_client import GatewayClient
from jupyter_server.gateway.managers import GatewayMappingKernelManager
from jupyter_server.utils import url_path_join
from tornado.escape import url_escape
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from colab_local.config import ColabLocal
from colab_local.workarounds.kernel_sockets import SETTING

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

#: WebSocket close code for "the kernel is gone" (the endpoint is going away).
GOING_AWAY = 1001
#: Messages, and their bytes, kept for the gateway while its socket (re)opens; past
#: either the notebook's channel is closed (POLICY_VIOLATION) with the reason, so a client
#: that keeps sending to an absent gateway cannot grow the server.
PENDING_LIMIT = 1024
PENDING_BYTES = 16 * 1024 * 1024
POLICY_VIOLATION = 1008
_MAX_REASON = 120  # a close reason is at most 123 bytes

_OPEN_CHANNELS: dict[str, weakref.WeakSet[KernelHonestGatewayConnection]] = {}


async def gone_from_gateway(kernel: Any, log: Any) -> bool:
    """Whether the gateway says it no longer has ``kernel`` (a GatewayKernelManager), asked
    with ``GET /api/kernels/<id>``, which gateways allow where listing is forbidden. False
    while it has it, and when it cannot be asked (nothing new is known then)."""
    try:
        model = await kernel.refresh_model()
    except Exception as e:  # the gateway is away
        log.debug("colab_local | cannot ask the gateway about kernel %s: %s", kernel.kernel_id, e)
        return False
    return model is None


def dead_status(session_id: str) -> str:
    """An IOPub status "dead" in Jupyter's JSON wire format, as jupyter_server sends for a
    kernel whose restart failed: frontends show a dead kernel and offer a new one."""
    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "msg_type": "status",
        "username": "colab_local",
        "session": session_id,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "version": "5.3",
    }
    return json.dumps(
        {
            "header": header,
            "msg_id": msg_id,
            "msg_type": "status",
            "parent_header": {},
            "metadata": {},
            "content": {"execution_state": "dead"},
            "channel": "iopub",
            "buffers": [],
        }
    )


class KernelHonestGatewayConnection(GatewayWebSocketConnection):
    """The gateway's kernel channel, closed when its kernel is gone (see the module)."""

    #: Seconds between asking the gateway about an open channel's kernel (0: only when the
    #: channel opens and when the gateway's socket is lost). Set per server at load time.
    check_interval: float = 10.0

    _watch: asyncio.Task[None] | None = None
    _reader: asyncio.Future[None] | None = None
    _pending: list[str] | None = None
    _pending_bytes = 0
    _ended = False

    async def connect(self) -> None:
        self._pending, self._pending_bytes = [], 0
        if await self._kernel_gone():
            return
        _OPEN_CHANNELS.setdefault(self.kernel_id, weakref.WeakSet()).add(self)
        if self.check_interval > 0:
            self._watch = asyncio.ensure_future(self._watch_kernel())
        await self._open_gateway_side()

    def disconnect(self) -> None:  # type: ignore[override]  # upstream: sync
        if self._watch is not None:
            self._watch.cancel()
        self._pending, self._pending_bytes = None, 0
        channels = _OPEN_CHANNELS.get(self.kernel_id)
        if channels is not None:
            channels.discard(self)
        super().disconnect()  # type: ignore[no-untyped-call]

    def handle_incoming_message(self, message: str) -> None:
        """To the gateway, or kept while its socket (re)opens."""
        if self.ws is not None:
            self._send(message)
        elif self._pending is None:
            self.log.warning("Ignoring message to kernel %s: no channel to it", self.kernel_id)
        elif (
            len(self._pending) >= PENDING_LIMIT
            or self._pending_bytes + sys.getsizeof(message) > PENDING_BYTES
        ):
            reason = (
                f"more than {PENDING_LIMIT} messages or {PENDING_BYTES // (1024 * 1024)} MiB "
                "waiting for the gateway: reconnect"
            )
            self.log.warning("colab_local | kernel %s: %s", self.kernel_id, reason)
            self.websocket_handler.close(POLICY_VIOLATION, reason[:_MAX_REASON])
            self.disconnect()
        else:
            self._pending.append(message)
            self._pending_bytes += sys.getsizeof(message)

    async def reopen_gateway_side(self) -> None:
        """The gateway's socket anew, the notebook's kept (after a restart)."""
        if self.disconnected:
            return
        old, self.ws = self.ws, None
        if old is not None:
            old.close()
        self.log.info("colab_local | reopening the gateway's channel to kernel %s", self.kernel_id)
        await self._open_gateway_side()

    async def _open_gateway_side(self) -> None:
        gateway = GatewayClient.instance()
        ws_url = url_path_join(
            gateway.ws_url or "", gateway.kernels_endpoint, url_escape(self.kernel_id), "channels"
        )
        if self.session_id:
            ws_url += f"?session_id={url_escape(self.session_id)}"
        self.log.info("Connecting to %s", ws_url)
        request = HTTPRequest(ws_url, **gateway.load_connection_args())  # type: ignore[no-untyped-call]
        self.ws = None
        connecting = websocket_connect(request)
        self.ws_future = connecting  # type: ignore[assignment]  # a Future
        try:
            ws = await connecting
        except Exception as e:
            self.log.warning(
                "colab_local | cannot open kernel %s on the gateway: %s", self.kernel_id, e
            )
            await self._gateway_side_lost()
            return
        if self.disconnected:
            ws.close()
            return
        self.ws, self.retry = ws, 0
        pending, self._pending, self._pending_bytes = self._pending or [], [], 0
        for message in pending:
            self._send(message)
        self._reader = asyncio.ensure_future(self._read_from(ws))

    def _send(self, message: str) -> None:
        ws = self.ws
        if ws is None or self.disconnected:
            return
        try:
            ws.write_message(message)
        except Exception as e:
            self.log.error("Exception writing message to websocket: %s", e)

    async def _read_from(self, ws: WebSocketClientConnection) -> None:
        while True:
            try:
                message = await ws.read_message()
            except Exception as e:
                self.log.error("Exception reading message from websocket: %s", e)
                message = None
            if message is None:
                break
            if isinstance(message, bytes):
                message = message.decode("utf8")
            self.handle_outgoing_message(message)
        if self.disconnected or ws is not self.ws:  # the notebook left, or it was reopened
            return
        self.log.warning("Lost connection to Gateway: %s", self.kernel_id)
        await self._gateway_side_lost()

    async def _gateway_side_lost(self) -> None:
        """Gone, retried, or given up on, as the gateway answers."""
        if self.disconnected or await self._kernel_gone():
            return
        gateway = GatewayClient.instance()
        if self.retry >= gateway.gateway_retry_max:
            self._end(
                f"the gateway did not answer for kernel {self.kernel_id} after "
                f"{self.retry} retries",
                forget=False,
            )
            return
        jitter = random.randint(10, 100) * 0.01  # noqa: S311 (spreads reconnections)
        interval = min(
            gateway.gateway_retry_interval * (2**self.retry), gateway.gateway_retry_interval_max
        )
        self.retry += 1
        self.log.info(
            "Attempting to re-establish the connection to Gateway in %.1f secs (%s/%s): %s",
            interval + jitter,
            self.retry,
            gateway.gateway_retry_max,
            self.kernel_id,
        )
        await asyncio.sleep(interval + jitter)  # backoff, as jupyter_server's own
        if not self.disconnected:
            await self._open_gateway_side()

    async def _watch_kernel(self) -> None:
        while not self.disconnected:
            await asyncio.sleep(self.check_interval)
            if self.disconnected or await self._kernel_gone():
                return

    async def _kernel_gone(self) -> bool:
        """Whether the gateway said it no longer has the kernel; if so, the channel ends."""
        if self.disconnected or not await gone_from_gateway(self.kernel_manager, self.log):
            return False
        self.log.warning(
            "colab_local | kernel %s is gone from the gateway (culled, or lost in a gateway "
            "restart): its notebook is told the kernel is dead, and gets a new one",
            self.kernel_id,
        )
        self._end(f"kernel {self.kernel_id} is gone from the gateway", forget=True)
        return True

    def _end(self, reason: str, *, forget: bool) -> None:
        """Tell the notebook its kernel is dead and close its socket."""
        if self._ended:
            return
        self._ended = True
        kernel_id = self.kernel_id
        self.handle_outgoing_message(dead_status(self.session_id or ""))
        self.websocket_handler.close(GOING_AWAY, reason[:_MAX_REASON])
        if forget:
            self.multi_kernel_manager.remove_kernel(kernel_id)
        self.disconnect()


class ChannelReopeningGatewayManager(GatewayMappingKernelManager):
    """The gateway's kernel manager, reopening a restarted kernel's channels."""

    async def restart_kernel(self, kernel_id: str, now: bool = False, **kwargs: Any) -> None:  # type: ignore[override]
        await super().restart_kernel(kernel_id, now=now, **kwargs)  # type: ignore[no-untyped-call]
        for channel in list(_OPEN_CHANNELS.get(kernel_id, ())):
            await channel.reopen_gateway_side()


def honest_gateway_channels(serverapp: ServerApp, options: ColabLocal) -> None:
    """At load time (before TCP_NODELAY subclasses the class): ours in place of
    jupyter_server's own gateway connection class; any other class unchanged."""
    settings = serverapp.web_app.settings
    if settings.get(SETTING) is not GatewayWebSocketConnection:
        return
    settings[SETTING] = type(
        KernelHonestGatewayConnection.__name__,
        (KernelHonestGatewayConnection,),
        {"check_interval": options.gateway_kernel_check_interval},
    )
