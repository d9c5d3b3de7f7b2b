"""``google.colab`` in the Python kernels this server starts, for notebooks from hosted Colab.

A kernel provisioner (jupyter_client's extension point for how kernels start) that is
jupyter_client's own local one, plus: a Python kernel's environment gets colab-local's
``google.colab`` directory at the end of ``PYTHONPATH`` and the settings it reads
(where ``drive.mount`` links to, the secrets file, how long to wait for a page that never
answered). Nothing else changes: no interpreter-wide hook, no other process sees it, and a
real ``google-colab`` in the kernel's environment still wins (the package steps aside).

It is made the default provisioner at link time, where the user chose none; a kernelspec
naming its own provisioner keeps it. Gateway kernels are started by the gateway: they get
none of this.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from colab_local.config import ColabLocal
from colab_local.kernel_support.download_links import LINK_SECONDS
from colab_local.kernel_support.download_links import PATH as LINK_PATH
from colab_local.paths import download_links_directory, secrets_file

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

#: The entry point name (setup.cfg: jupyter_client.kernel_provisioners).
PROVISIONER_NAME = "colab-local-provisioner"
#: The directory holding colab-local's ``google/colab`` package.
SHIM_DIRECTORY = Path(__file__).resolve().parent.parent / "kernel_shim"
_FACTORY = "KernelProvisionerFactory"
_DEFAULT_NAME_ENV = "JUPYTER_DEFAULT_PROVISIONER_NAME"


def kernel_environment(serverapp: ServerApp, options: ColabLocal) -> dict[str, str]:
    """What a Python kernel's google.colab reads (the port: the one configured, which the
    user's tunnel forwards)."""
    base_url = serverapp.base_url.rstrip("/")
    return {
        "COLAB_LOCAL_DRIVE_DIRECTORY": str(Path(options.drive_directory).expanduser()),
        "COLAB_LOCAL_SECRETS_FILE": str(secrets_file()),
        "COLAB_LOCAL_PAGE_TIMEOUT": f"{options.page_reply_timeout:g}",
        "COLAB_LOCAL_DOWNLOAD_LINKS": str(download_links_directory()),
        "COLAB_LOCAL_DOWNLOAD_URL": f"http://localhost:{serverapp.port}{base_url}{LINK_PATH}",
        "COLAB_LOCAL_DOWNLOAD_SECONDS": str(LINK_SECONDS),
    }


class GoogleColabProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner; Python kernels also get ``google.colab``."""

    #: Set at link time from the server's ColabLocal settings.
    colab_environment: dict[str, str] = {}

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = await super().pre_launch(**kwargs)
        spec = self.kernel_spec
        if spec is not None and str(getattr(spec, "language", "")).lower() == "python":
            env: dict[str, str] = kwargs["env"]
            paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
            env["PYTHONPATH"] = os.pathsep.join([*paths, str(SHIM_DIRECTORY)])
            for name, value in self.colab_environment.items():
                env.setdefault(name, value)
        return kwargs


def give_kernels_google_colab(serverapp: ServerApp, options: ColabLocal) -> None:
    """At link time (before the kernel manager exists): the default provisioner, unless
    the user chose one (config or JUPYTER_DEFAULT_PROVISIONER_NAME)."""
    if not options.google_colab:
        return
    if "default_provisioner_name" in serverapp.config.get(_FACTORY, {}):
        return
    if os.environ.get(_DEFAULT_NAME_ENV):
        return
    GoogleColabProvisioner.colab_environment = kernel_environment(serverapp, options)
    serverapp.config[_FACTORY]["default_provisioner_name"] = PROVISIONER_NAME
