"""Requests to Colab's page, as hosted Colab makes them.

A request is a ``colab_request`` message on IOPub (content ``{"request": body}``, metadata
``colab_request_type`` and ``colab_msg_id``, the parent header routing it to the page);
the page answers with an ``input_reply`` on the stdin channel whose value is
``{"type": "colab_reply", "colab_msg_id": ..., "data": ...}`` (or ``"error"``).

Whether Colab's page answers a local runtime is not documented. A kernel whose page has
answered once waits as hosted Colab does; until then a wait without a limit is bounded
(``ColabLocal.page_reply_timeout``) and ends in ``PageNotAnsweringError``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from google.colab import _settings
from google.colab.errors import Error

_POLL_SECONDS = 0.025
_NOT_READY = object()
#: Whether Colab's page has answered a request of this kernel.
_page_answered = False


class MessageError(Error):
    """The page answered the request with an error."""


class PageNotAnsweringError(MessageError, TimeoutError):
    """Colab's page has not answered any request of this kernel in time."""


def _kernel() -> Any:
    from IPython import get_ipython  # noqa: PLC0415 (only inside a kernel)

    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        raise Error("google.colab talks to Colab's page: run this in a notebook's kernel")
    return kernel


def _parent_header(kernel: Any) -> dict[str, Any]:
    parent = kernel.get_parent("shell") if hasattr(kernel, "get_parent") else None
    return parent or getattr(kernel.shell, "parent_header", None) or {}


def send_request(request_type: str, request_body: Any, parent: dict[str, Any] | None = None) -> str:
    """Send a request to the page; its id."""
    kernel = _kernel()
    request_id = str(uuid.uuid4())
    if parent is None:
        header = _parent_header(kernel).get("header", {})
        parent = {"header": {"session": header["session"]}} if "session" in header else None
    kernel.session.send(
        kernel.iopub_socket,
        "colab_request",
        content={"request": request_body},
        parent=parent,
        metadata={"colab_msg_id": request_id, "colab_request_type": request_type},
    )
    return request_id


def _next_input(kernel: Any) -> Any:
    import zmq  # noqa: PLC0415

    try:
        _, reply = kernel.session.recv(kernel.stdin_socket, zmq.NOBLOCK)
    except Exception:  # a malformed message counts as no reply, as hosted
        return _NOT_READY
    if reply is None:
        return _NOT_READY
    return reply.get("content", {}).get("value", "")


def read_reply_from_input(message_id: str, timeout_sec: float | None = None) -> Any:
    """The page's reply to ``message_id``: its data, None after ``timeout_sec``.

    Raises MessageError if the page answered with an error, PageNotAnsweringError if no
    limit was given and the page has never answered this kernel within the bound.
    """
    global _page_answered  # noqa: PLW0603 (one kernel, one page)
    kernel = _kernel()
    bounded = not timeout_sec and not _page_answered
    limit = _settings.page_timeout() if bounded else timeout_sec
    deadline = time.monotonic() + limit if limit else None
    while deadline is None or time.monotonic() < deadline:
        reply = _next_input(kernel)
        if reply is _NOT_READY or not isinstance(reply, dict):
            time.sleep(_POLL_SECONDS)  # polling the stdin socket, as hosted Colab does
            continue
        if reply.get("type") == "colab_reply" and reply.get("colab_msg_id") == message_id:
            _page_answered = True
            if "error" in reply:
                raise MessageError(reply["error"])
            return reply.get("data")
    if bounded:
        raise PageNotAnsweringError(
            f"Colab's page did not answer within {limit:g} s. On a local runtime it may "
            "not answer google.colab's requests (this needs Colab's page; run the cell from "
            "Colab, or raise ColabLocal.page_reply_timeout on the server)"
        )
    return None


def blocking_request(
    request_type: str,
    request: Any = "",
    timeout_sec: float | None = 5,
    parent: dict[str, Any] | None = None,
) -> Any:
    """Send a request and wait for the page's reply (None after ``timeout_sec``)."""
    request_id = send_request(request_type, request, parent=parent)
    return read_reply_from_input(request_id, timeout_sec)
