"""A Colab-style client for both connection flows, used by the tests.

It speaks what Colab's page speaks: the jupyter_http_over_ws protocol (JSON requests over
``/http_over_websocket``, kernel channels over ``/http_over_websocket/proxied_ws/...``)
and the direct flow (token-authenticated REST and kernel WebSocket from Colab's origin).
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlparse

from tornado import httpclient, websocket

COLAB_ORIGIN = "https://colab.research.google.com"
PROTOCOL_MIN_VERSION = "0.0.7"
TIMEOUT = 60
KERNEL_INFO_EVERY = 5


@dataclass
class TunnelResponse:
    status: int
    status_text: str
    headers: dict[str, str]
    body: bytes
    messages: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)


def auth_url(http_root: str, token: str) -> str:
    """Colab's auth URL: the server root with the token, exactly as the user pastes it."""
    return f"{http_root}?{urlencode({'token': token})}"


def ws_root(http_root: str) -> str:
    """``ws://`` or ``wss://`` for an ``http://`` or ``https://`` root."""
    return "ws" + http_root[len("http") :]


async def open_ws(url: str, origin: str | None = COLAB_ORIGIN, **headers: str) -> Any:
    if origin is not None:
        headers["Origin"] = origin
    request = httpclient.HTTPRequest(
        url,
        headers=headers,
        connect_timeout=TIMEOUT,
        request_timeout=TIMEOUT,
        validate_cert=False,  # test servers on localhost, some with a self-signed certificate
    )
    return await websocket.websocket_connect(request)


class Tunnel:
    """An open ``/http_over_websocket`` connection; paths are relative to the server root."""

    def __init__(self, ws: Any, http_root: str) -> None:
        self.ws = ws
        self.base_path = urlparse(http_root).path

    async def request(self, method: str, path: str, body: Any = None) -> TunnelResponse:
        return await tunnel_request(self.ws, method, self.base_path + path.lstrip("/"), body)

    def send_raw(self, text: str) -> None:
        self.ws.write_message(text)

    async def read_response(self) -> TunnelResponse:
        return await read_response(self.ws)

    def close(self) -> None:
        self.ws.close()


async def open_tunnel(
    http_root: str,
    token: str,
    *,
    origin: str | None = COLAB_ORIGIN,
    min_version: str = PROTOCOL_MIN_VERSION,
    auth: str | None = None,
    headers: dict[str, str] | None = None,
) -> Tunnel:
    """Open ``/http_over_websocket`` as Colab does; ``http_root`` ends with '/'."""
    query = urlencode(
        {
            "min_version": min_version,
            "jupyter_http_over_ws_auth_url": auth or auth_url(http_root, token),
        }
    )
    ws = await open_ws(
        f"{ws_root(http_root)}http_over_websocket?{query}", origin, **(headers or {})
    )
    return Tunnel(ws, http_root)


async def tunnel_get(
    http_root: str, token: str, path: str = "/api/status", *, auth: str | None = None
) -> TunnelResponse:
    """Open a tunnel (optionally with another auth URL), GET ``path`` through it, close it."""
    tunnel = await open_tunnel(http_root, token, auth=auth)
    try:
        return await tunnel.request("GET", path)
    finally:
        tunnel.close()


async def tunnel_status(http_root: str, token: str, path: str = "/api/status") -> int:
    """The status ``path`` answers through a fresh tunnel."""
    return (await tunnel_get(http_root, token, path)).status


async def read_response(ws: Any) -> TunnelResponse:
    """Read one streamed response: status and headers first, ``done: true`` last."""
    messages: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    while True:
        raw = await ws.read_message()
        if raw is None:
            raise ConnectionError(f"tunnel closed: {ws.close_code} {ws.close_reason}")
        message = json.loads(raw)
        # Decoded as it arrives, as a streaming client does, while the server sends more.
        chunks.append(base64.b64decode(message.pop("data", "")))
        messages.append(message)
        if message.get("done"):
            break
    first = messages[0]
    body = b"".join(chunks)
    return TunnelResponse(
        status=first["status"],
        status_text=first.get("statusText", ""),
        headers=first.get("headers", {}),
        body=body,
        messages=messages,
    )


async def tunnel_request(ws: Any, method: str, path: str, body: Any = None) -> TunnelResponse:
    message: dict[str, Any] = {"message_id": uuid.uuid4().hex, "method": method, "path": path}
    if body is not None:
        message["body"] = body if isinstance(body, str) else json.dumps(body)
    ws.write_message(json.dumps(message))
    response = await read_response(ws)
    assert all(m.get("message_id") == message["message_id"] for m in response.messages)
    return response


async def open_proxied_kernel(
    http_root: str, token: str, kernel_id: str, session_id: str, *, ready: bool = True
) -> Any:
    query = urlencode(
        {"session_id": session_id, "jupyter_http_over_ws_auth_url": auth_url(http_root, token)}
    )
    path = f"http_over_websocket/proxied_ws/api/kernels/{quote(kernel_id)}/channels"
    ws = await open_ws(f"{ws_root(http_root)}{path}?{query}")
    return await kernel_ready(ws) if ready else ws


async def open_direct_kernel(http_root: str, token: str, kernel_id: str, session_id: str) -> Any:
    query = urlencode({"session_id": session_id, "token": token})
    url = f"{ws_root(http_root)}api/kernels/{quote(kernel_id)}/channels?{query}"
    return await kernel_ready(await open_ws(url))


def session_body(path: str) -> dict[str, Any]:
    return {"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}}


async def kernel_ready(ws: Any, session_id: str = "ready") -> Any:
    """Wait for the kernel's kernel_info_reply on a fresh channel, as frontends do before
    executing: output sent before the server's IOPub subscription is up would be lost.

    The request is sent again every ``KERNEL_INFO_EVERY`` seconds until one is answered,
    as JupyterLab's kernel connection does: a request that arrives while jupyter_server is
    still connecting the channel to the kernel's sockets can be lost (seen on
    jupyter_server 2.16 under load), and only the reply says the channel is ready.
    """
    asked = {send_request(ws, "kernel_info_request", {}, session_id)}

    async def reply() -> None:
        while True:
            try:
                raw = await asyncio.wait_for(ws.read_message(), KERNEL_INFO_EVERY)
            except asyncio.TimeoutError:
                asked.add(send_request(ws, "kernel_info_request", {}, session_id))
                continue
            if raw is None:
                raise ConnectionError(f"kernel channel closed: {ws.close_code} {ws.close_reason}")
            message = json.loads(raw)
            if (
                message.get("parent_header", {}).get("msg_id") in asked
                and message["msg_type"] == "kernel_info_reply"
            ):
                return

    await asyncio.wait_for(reply(), TIMEOUT)
    return ws


def send_execute(ws: Any, code: str, session_id: str) -> str:
    """Send an execute request, as Colab does; return its msg_id without waiting."""
    return send_request(
        ws, "execute_request", {"code": code, "silent": False, "store_history": False}, session_id
    )


def send_request(ws: Any, msg_type: str, content: dict[str, Any], session_id: str) -> str:
    """Send a shell-channel request; return its msg_id."""
    msg_id = uuid.uuid4().hex
    ws.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "username": "colab",
                    "session": session_id,
                    "msg_type": msg_type,
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": content,
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    return msg_id


async def execute(ws: Any, code: str, session_id: str) -> str:
    """Run ``code`` on the kernel behind ``ws``; return its stdout once the kernel is idle."""
    return await asyncio.wait_for(_execute(ws, code, session_id), TIMEOUT)


async def _execute(ws: Any, code: str, session_id: str) -> str:
    msg_id = send_execute(ws, code, session_id)
    stdout: list[str] = []
    while True:
        raw = await ws.read_message()
        if raw is None:
            raise ConnectionError(f"kernel channel closed: {ws.close_code} {ws.close_reason}")
        message = json.loads(raw)
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = message["msg_type"]
        if kind == "stream" and message["content"]["name"] == "stdout":
            stdout.append(message["content"]["text"])
        elif kind == "error":
            raise AssertionError(f"kernel error: {message['content']['evalue']}")
        elif kind == "status" and message["content"]["execution_state"] == "idle":
            return "".join(stdout)


async def direct_fetch(
    http_root: str,
    path: str,
    token: str | None,
    *,
    method: str = "GET",
    origin: str | None = COLAB_ORIGIN,
    body: Any = None,
    headers: dict[str, str] | None = None,
    follow_redirects: bool = True,
) -> httpclient.HTTPResponse:
    """A request as Colab's page sends it in the direct flow (``?token=`` on the URL)."""
    all_headers = dict(headers or {})
    if origin is not None:
        all_headers["Origin"] = origin
    url = f"{http_root}{path}"
    if token is not None:
        url += ("&" if "?" in url else "?") + urlencode({"token": token})
    request = httpclient.HTTPRequest(
        url,
        method=method,
        headers=all_headers,
        body=None if body is None else (body if isinstance(body, str) else json.dumps(body)),
        allow_nonstandard_methods=True,
        request_timeout=TIMEOUT,
        validate_cert=False,
        follow_redirects=follow_redirects,
    )
    return await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)


async def read_until_busy(ws: Any) -> bool:
    """Read kernel messages until the kernel reports it is busy with a request."""
    while True:
        raw = await ws.read_message()
        if raw is None:
            return False
        message = json.loads(raw)
        if (
            message.get("msg_type") == "status"
            and message["content"].get("execution_state") == "busy"
        ):
            return True


async def legacy_flow(http_root: str, token: str, notebook: str, code: str) -> str:
    """Colab's HTTP-over-WebSocket flow end to end: kernelspecs, a new session, ``code``
    run over the relayed kernel channel, the session deleted. Returns the output."""
    tunnel = await open_tunnel(http_root, token)
    try:
        specs = await tunnel.request("GET", "/api/kernelspecs")
        assert specs.status == 200, specs.body
        assert "python3" in specs.json()["kernelspecs"]
        created = await tunnel.request("POST", "/api/sessions", session_body(notebook))
        assert created.status == 201, created.body
        session = created.json()
        kernel = await open_proxied_kernel(http_root, token, session["kernel"]["id"], "legacy")
        try:
            output = await execute(kernel, code, uuid.uuid4().hex)
        finally:
            kernel.close()
        deleted = await tunnel.request("DELETE", f"/api/sessions/{session['id']}")
        assert deleted.status == 204, deleted.body
        return output
    finally:
        tunnel.close()


async def direct_flow(http_root: str, token: str, notebook: str, code: str) -> str:
    """Colab's direct flow end to end, as its page does it from Colab's origin: CORS
    preflight, kernelspecs, a new session, ``code`` run over the kernel WebSocket, the
    session deleted. Returns the output."""
    preflight = await direct_fetch(
        http_root,
        "api/sessions",
        None,
        method="OPTIONS",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == COLAB_ORIGIN
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    specs = await direct_fetch(http_root, "api/kernelspecs", token)
    assert specs.code == 200, specs.body
    assert specs.headers["Access-Control-Allow-Origin"] == COLAB_ORIGIN
    created = await direct_fetch(
        http_root, "api/sessions", token, method="POST", body=session_body(notebook)
    )
    assert created.code == 201, created.body
    session = json.loads(created.body)
    kernel = await open_direct_kernel(http_root, token, session["kernel"]["id"], "direct")
    try:
        output = await execute(kernel, code, uuid.uuid4().hex)
    finally:
        kernel.close()
    deleted = await direct_fetch(http_root, f"api/sessions/{session['id']}", token, method="DELETE")
    assert deleted.code == 204, deleted.body
    return output
