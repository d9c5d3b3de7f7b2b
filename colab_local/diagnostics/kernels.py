"""Where kernels run and what they will run, as ``/colab/connect`` reports it.

Locally, the default kernelspec's interpreter is resolved as jupyter_client resolves it
when it starts the kernel: ``python``, ``python3`` and ``python3.X`` mean the server's own
interpreter, whatever PATH says. With a gateway, kernels run on the gateway's host:
the checks ask the gateway (reachable, authenticated, its kernelspecs) with a short time
limit, and say so when it does not answer.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from typing import TYPE_CHECKING, Any

from jupyter_core.utils import ensure_async
from jupyter_server.gateway.gateway_client import GatewayClient
from jupyter_server.utils import url_path_join
from tornado import httpclient

from colab_local.config import ColabLocal
from colab_local.diagnostics.check import Check
from colab_local.runtime import uses_gateway

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

    from colab_local.monitor.gpus import GpuSampler

#: How long the gateway may take to answer a check.
GATEWAY_CHECK_TIMEOUT = 5.0
_PYTHON_ALIASES = {
    "python",
    f"python{sys.version_info[0]}",
    "python{}.{}".format(*sys.version_info),
}


def where_kernels_run(serverapp: ServerApp) -> str:
    """ "on this server", or "on the gateway at <url>": how the page and the probe say it."""
    if uses_gateway(serverapp):
        return f"on the gateway at {serverapp.gateway_config.url}"
    return "on this server"


def local_interpreter(argv0: str) -> str | None:
    """The program jupyter_client will run for a kernelspec whose argv starts with ``argv0``."""
    if argv0 in _PYTHON_ALIASES:
        return sys.executable
    return shutil.which(argv0)


async def check_local_kernel(serverapp: ServerApp) -> Check:
    name = serverapp.kernel_manager.default_kernel_name
    specs = serverapp.kernel_spec_manager
    assert specs is not None  # made by ServerApp.init_configurables, before extensions load
    try:
        spec = await ensure_async(specs.get_kernel_spec(name))
    except Exception as e:
        return Check(
            "kernel",
            False,
            f"the default kernel {name!r} is not available: {e}",
            "pip install ipykernel (in the environment the server runs in), then restart",
        )
    argv0 = spec.argv[0] if spec.argv else ""
    interpreter = local_interpreter(argv0) if argv0 else None
    if interpreter is None:
        return Check(
            "kernel",
            False,
            f"the default kernel {name!r} runs {argv0!r}, which is not found on this server's PATH",
            f"reinstall the kernel (python -m ipykernel install --user) or fix "
            f"{spec.resource_dir}/kernel.json",
        )
    version = f", Python {sys.version.split()[0]}" if interpreter == sys.executable else ""
    return Check(
        "kernel", True, f"default kernel {spec.display_name!r} runs {interpreter}{version}"
    )


#: The kernel Colab's page asks for by name in every session request (the kernelspec of a
#: notebook made in Colab).
COLAB_KERNEL_NAME = "python3"


async def gateway_get(path: str) -> Any:
    """GET ``path`` on the gateway with this server's credentials; the JSON it answers.

    Raises ``httpclient.HTTPClientError`` (an HTTP status) or ``OSError``/``TimeoutError``.
    """
    gateway = GatewayClient.instance()
    kwargs = gateway.load_connection_args()  # type: ignore[no-untyped-call]
    kwargs.update(connect_timeout=GATEWAY_CHECK_TIMEOUT, request_timeout=GATEWAY_CHECK_TIMEOUT)
    response = await asyncio.wait_for(
        httpclient.AsyncHTTPClient().fetch(url_path_join(gateway.url or "", path), **kwargs),
        GATEWAY_CHECK_TIMEOUT + 1,
    )
    return json.loads(response.body)


async def check_gateway(serverapp: ServerApp) -> list[Check]:
    """Checks of the gateway: answering with this server's credentials, and the kernel."""
    url = GatewayClient.instance().url
    try:
        specs = await gateway_get("/api/kernelspecs")
    except httpclient.HTTPClientError as e:
        if e.code in (401, 403):
            return [
                Check(
                    "gateway",
                    False,
                    f"the gateway at {url} refused this server's credentials ({e.code})",
                    "give this server the gateway's token: --GatewayClient.auth_token=... or "
                    "JUPYTER_GATEWAY_AUTH_TOKEN",
                )
            ]
        return [
            Check(
                "gateway",
                False,
                f"the gateway at {url} answered {e.code} {e.message}",
                "check --gateway-url: it should be the gateway's root URL",
            )
        ]
    except (OSError, asyncio.TimeoutError) as e:
        return [
            Check(
                "gateway",
                False,
                f"the gateway at {url} is not reachable: {e or type(e).__name__}",
                "check that the gateway runs and that --gateway-url names it",
            )
        ]
    names = sorted(specs.get("kernelspecs", {}))
    checks = [
        Check("gateway", True, f"kernels run on the gateway at {url}; kernels: {', '.join(names)}")
    ]
    if COLAB_KERNEL_NAME not in names:
        checks.append(
            Check(
                "colab kernel",
                False,
                f"the gateway offers no kernel {COLAB_KERNEL_NAME!r}, the name Colab asks for "
                "(a Colab notebook's kernelspec): its session requests get an error, or a "
                "kernel the gateway picks",
                f"on the gateway, offer a kernel named {COLAB_KERNEL_NAME!r}: add it to "
                "Enterprise Gateway's allowed kernels (EG_ALLOWED_KERNELS; Helm: "
                "kernel.allowedKernels), or name the kernelspec Colab should get "
                f"{COLAB_KERNEL_NAME!r} (its directory kernels/{COLAB_KERNEL_NAME})",
            )
        )
    default = specs.get("default") or serverapp.kernel_manager.default_kernel_name
    spec = specs.get("kernelspecs", {}).get(default)
    if spec is None:
        checks.append(
            Check(
                "kernel",
                False,
                f"the gateway has no kernel {default!r}",
                f"install it on the gateway, or choose one of {', '.join(names) or 'none'} "
                "(MappingKernelManager.default_kernel_name)",
            )
        )
    else:
        argv = spec.get("spec", {}).get("argv") or [""]
        display = spec.get("spec", {}).get("display_name", default)
        checks.append(
            Check(
                "kernel",
                True,
                f"default kernel {display!r} runs {argv[0]!r} on the gateway's host: "
                "“What the notebook will see” starts one and asks it",
            )
        )
    return checks


async def kernel_checks(serverapp: ServerApp) -> list[Check]:
    if uses_gateway(serverapp):
        return await check_gateway(serverapp)
    return [await check_local_kernel(serverapp)]


def check_gpu(serverapp: ServerApp, gpus: GpuSampler) -> Check:
    if uses_gateway(serverapp):
        detail = (
            "kernels run on the gateway, not here: “What the notebook will see” reports "
            "the GPUs a kernel there sees"
        )
    else:
        detail = (
            f"GPUs visible to this server: {gpus.describe()}. A kernel's environment may "
            "differ (CUDA_VISIBLE_DEVICES, its packages): “What the notebook will see” asks one"
        )
    return Check("accelerators", True, detail, informational=True)


def check_google_colab(serverapp: ServerApp, options: ColabLocal) -> Check:
    """Which kernels get colab-local's google.colab (informational)."""
    if not options.google_colab:
        detail = "not given to kernels (ColabLocal.google_colab=False)"
    elif uses_gateway(serverapp):
        detail = (
            "kernels run on the gateway, which starts them: they have google.colab only if "
            "their environment has it"
        )
    else:
        detail = (
            "Python kernels started here get google.colab (drive, userdata, files, output, "
            "patches, auth); a real google-colab in a kernel's environment wins"
        )
    return Check("google.colab", True, detail, informational=True)
