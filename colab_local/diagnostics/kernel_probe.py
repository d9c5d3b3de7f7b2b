"""What the notebook will see: a short-lived kernel of the default kernelspec, asked.

Started through the server's own kernel manager, so it runs where Colab's kernels run
(here, or on the gateway), with their interpreter and environment. It reports its
Python, the GPUs it sees (``nvidia-smi -L`` on its own PATH, ``CUDA_VISIBLE_DEVICES``),
and whether torch, tensorflow and jax import and see a GPU. Then it is shut down. One
probe at a time, within a time limit.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from jupyter_core.utils import ensure_async
from jupyter_server.gateway.gateway_client import GatewayClient
from jupyter_server.utils import url_escape, url_path_join
from tornado import httpclient, websocket

from colab_local.diagnostics.kernels import where_kernels_run
from colab_local.http_over_ws.relay import SERVER_MESSAGE_LIMIT
from colab_local.runtime import uses_gateway

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

#: Marks the probe's one line of output among anything an import prints.
MARKER = "colab-local-kernel-probe:"

PROBE_CODE = r"""
def _colab_local_probe():
    import importlib, importlib.util, json, os, platform, subprocess, sys
    report = {
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "frameworks": {},
    }
    try:
        listed = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=15, check=False
        )
        report["nvidia_smi"] = (
            [line for line in listed.stdout.splitlines() if line.strip()]
            if listed.returncode == 0
            else f"nvidia-smi failed (exit {listed.returncode}): {listed.stderr.strip()[:200]}"
        )
    except FileNotFoundError:
        report["nvidia_smi"] = "no nvidia-smi on the kernel's PATH"
    except Exception as e:
        report["nvidia_smi"] = f"nvidia-smi could not run: {e}"

    def gpus_torch(m):
        return m.cuda.device_count() if m.cuda.is_available() else 0

    def gpus_tensorflow(m):
        return len(m.config.list_physical_devices("GPU"))

    def gpus_jax(m):
        return len([d for d in m.devices() if d.platform in ("gpu", "cuda", "rocm")])

    for name, gpus in (("torch", gpus_torch), ("tensorflow", gpus_tensorflow), ("jax", gpus_jax)):
        if importlib.util.find_spec(name) is None:
            report["frameworks"][name] = {"installed": False}
            continue
        try:
            module = importlib.import_module(name)
            report["frameworks"][name] = {
                "installed": True,
                "version": getattr(module, "__version__", "?"),
                "gpus": gpus(module),
            }
        except Exception as e:
            report["frameworks"][name] = {"installed": True, "error": f"{type(e).__name__}: {e}"}
    print("MARKER" + json.dumps(report), flush=True)

_colab_local_probe()
del _colab_local_probe
""".replace("MARKER", MARKER)


async def probe_kernel(
    serverapp: ServerApp, one_at_a_time: asyncio.Lock, timeout: float
) -> dict[str, Any]:
    """Start a kernel of the default kernelspec, run the probe, shut it down.

    Returns the kernel's report, with ``ok`` and, when it failed, ``error``.
    """
    kernel_manager = serverapp.kernel_manager
    name = kernel_manager.default_kernel_name
    result: dict[str, Any] = {"kernel": name, "where": where_kernels_run(serverapp)}
    started = time.monotonic()
    async with one_at_a_time:
        kernel_id: str | None = None
        try:
            kernel_id = await asyncio.wait_for(
                kernel_manager.start_kernel(kernel_name=name), timeout
            )
            result["kernel_id"] = kernel_id
            remaining = max(1.0, timeout - (time.monotonic() - started))
            run = (
                _run_probe_on_gateway(kernel_id)
                if uses_gateway(serverapp)
                else _run_probe(kernel_manager, kernel_id)
            )
            result.update(_report(await asyncio.wait_for(run, remaining)))
            result["ok"] = True
        except asyncio.TimeoutError:
            result.update(ok=False, error=f"the kernel did not answer within {timeout:g} s")
        except Exception as e:
            result.update(ok=False, error=f"{type(e).__name__}: {e}")
        finally:
            if kernel_id is not None:
                await _shut_down(serverapp, kernel_id)
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


async def _run_probe(kernel_manager: Any, kernel_id: str) -> list[str]:
    """Run the probe on a local kernel, through jupyter_client; its stdout lines."""
    client = kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready()
        lines: list[str] = []

        def collect(message: dict[str, Any]) -> None:
            if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
                lines.extend(message["content"]["text"].splitlines())

        reply = await client.execute_interactive(
            PROBE_CODE, output_hook=collect, store_history=False, allow_stdin=False
        )
    finally:
        client.stop_channels()
    _raise_unless_ok(reply["content"])
    return lines


async def _run_probe_on_gateway(kernel_id: str) -> list[str]:
    """Run the probe on a gateway kernel, over the gateway's own kernel WebSocket.

    Not jupyter_server's GatewayKernelClient: it opens its channels without the
    gateway's credentials (no auth token header), so a gateway with a token refuses it
    (401). The connection here is made as jupyter_server's GatewayWebSocketConnection
    makes it for browsers, with ``GatewayClient.load_connection_args()``.
    """
    gateway = GatewayClient.instance()
    url = url_path_join(
        gateway.ws_url or "", gateway.kernels_endpoint, url_escape(kernel_id), "channels"
    )
    connection_args = gateway.load_connection_args()  # type: ignore[no-untyped-call]
    channels = await websocket.websocket_connect(
        httpclient.HTTPRequest(url, **connection_args),
        max_message_size=SERVER_MESSAGE_LIMIT,
    )
    try:
        await _request(channels, "kernel_info_request", {})  # the kernel is ready
        lines: list[str] = []
        reply = await _request(
            channels,
            "execute_request",
            {"code": PROBE_CODE, "silent": False, "store_history": False, "allow_stdin": False},
            lines,
        )
    finally:
        channels.close()
    _raise_unless_ok(reply)
    return lines


async def _request(
    channels: Any, msg_type: str, content: dict[str, Any], stdout: list[str] | None = None
) -> dict[str, Any]:
    """Send a shell request; collect its stdout; return its reply's content once idle."""
    msg_id = uuid.uuid4().hex
    channels.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": msg_type,
                    "username": "colab-local",
                    "session": "colab-local-kernel-probe",
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
    # The reply (shell) and the kernel going idle (iopub) come in either order.
    reply: dict[str, Any] | None = None
    idle = False
    while reply is None or not idle:
        raw = await channels.read_message()
        if raw is None:
            raise ConnectionError("the gateway closed the kernel's channels")
        if isinstance(raw, bytes):
            continue  # binary messages carry buffers the probe does not use
        message = json.loads(raw)
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = message.get("msg_type")
        if kind == msg_type.replace("_request", "_reply"):
            reply = message["content"]
        elif kind == "stream" and stdout is not None and message["content"]["name"] == "stdout":
            stdout.extend(message["content"]["text"].splitlines())
        elif kind == "status" and message["content"]["execution_state"] == "idle":
            idle = True
    return reply


def _raise_unless_ok(reply: dict[str, Any]) -> None:
    if reply.get("status") != "ok":
        raise RuntimeError(
            f"the probe failed in the kernel: {reply.get('ename')}: {reply.get('evalue')}"
        )


def _report(lines: list[str]) -> dict[str, Any]:
    for line in lines:
        if line.startswith(MARKER):
            report: dict[str, Any] = json.loads(line[len(MARKER) :])
            return report
    raise RuntimeError("the kernel printed no report")


async def _shut_down(serverapp: ServerApp, kernel_id: str) -> None:
    try:
        await ensure_async(serverapp.kernel_manager.shutdown_kernel(kernel_id, now=True))  # type: ignore[no-untyped-call]
    except Exception as e:
        serverapp.log.warning("colab_local | cannot shut down probe kernel %s: %s", kernel_id, e)
