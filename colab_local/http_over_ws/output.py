"""Back-pressure on the sockets colab-local writes to: a client's unread output is bounded.

tornado's WebSocket handler reads a connection's next message only when ``on_message``
(a coroutine) has returned. So each handler here writes its answer, then waits in
:func:`drained` until what the client has not read yet is under a bound: a client that
pipelines requests and never reads gets at most one answer beyond the bound queued for
it, then nothing more is read from it. A single frame larger than the bound is written
whole and goes to a client that reads it (a 70 MB kernel output, say); only a client that
reads *nothing* for ``stalled_client_timeout`` seconds is closed. The bound is small
until the client has proved the token, generous after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tornado.iostream import IOStream, StreamClosedError

#: Unread output a client may have before it has proved the token (the order of the
#: 1 MiB message limit before authentication).
UNAUTHENTICATED_OUTPUT_LIMIT = 1024 * 1024
#: Once authenticated: kernel output and file pieces flow freely up to this much.
AUTHENTICATED_OUTPUT_LIMIT = 16 * 1024 * 1024


def unread_bytes(stream: IOStream) -> int:
    """Bytes written to ``stream`` that the socket has not taken yet.

    tornado keeps these counters privately (since 5.0; they are what its write futures
    are resolved by); no public API says how much is waiting.
    """
    return int(stream._total_write_index - stream._total_write_done_index)


def _taken_bytes(stream: IOStream) -> int:
    return int(stream._total_write_done_index)


async def drained(
    stream: IOStream | None,
    limit: int,
    stall_timeout: float,
    on_stall: Callable[[], None],
) -> None:
    """Return once ``stream``'s unread output is at most ``limit`` bytes.

    While it is over, wait for the socket to take it; if it takes nothing for
    ``stall_timeout`` seconds (0: wait forever), call ``on_stall`` (which closes the
    client) and raise StreamClosedError.
    """
    while stream is not None and not stream.closed() and unread_bytes(stream) > limit:
        pending = stream._write_futures  # (end index, future) of each write not yet taken
        if not pending:
            return
        taken = _taken_bytes(stream)
        # The oldest write resolves when the socket has taken all of it; meanwhile the
        # counter shows whether it takes anything at all.
        await asyncio.wait({pending[0][1]}, timeout=stall_timeout if stall_timeout > 0 else None)
        if not stream.closed() and _taken_bytes(stream) == taken:
            on_stall()
            raise StreamClosedError(real_error=TimeoutError("the client stopped reading"))
