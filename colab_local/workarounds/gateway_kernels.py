"""Kernels on a gateway that outlive this server: restart or upgrade colab-local, keep them.

With ``--gateway-url`` (Kernel Gateway, Enterprise Gateway) kernels run elsewhere, but
jupyter_server keeps sessions (notebook path -> kernel) in memory and shuts every kernel
down when it stops. So a restart cost Colab its kernel, variables and all. Here, when a
gateway is configured:

- sessions are kept in a database file in colab-local's data directory;
- stopping the server leaves the gateway's kernels running (``ColabLocal.keep_gateway_kernels``);
- a session from before a restart re-attaches its kernel when it is next asked for (Colab
  reconnecting the same notebook), if the gateway still runs it; if the gateway says it
  is gone (404), the session is dropped as jupyter_server drops a culled kernel's; if the
  gateway cannot answer (away, 5xx, a refused token), the session is kept and the request
  answered 503, so Colab asks again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_server.gateway.gateway_client import GatewayClient
from jupyter_server.gateway.managers import GatewaySessionManager
from tornado import web

from colab_local.config import ColabLocal
from colab_local.paths import sessions_database
from colab_local.private_files import (
    PrivateFileError,
    check_private,
    create_private,
    ensure_private_directory,
)
from colab_local.workarounds.gateway_channels import (
    ChannelReopeningGatewayManager,
    gone_from_gateway,
)

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

_SERVER_SETTINGS = ("ServerApp", "NotebookApp")


class KernelsKeepingGatewayManager(ChannelReopeningGatewayManager):
    """The gateway's kernel manager, minus shutting every kernel down when the server stops.

    jupyter_server calls ``shutdown_all`` only from its own shutdown; a notebook's
    "shut down kernel" still shuts its kernel down (``shutdown_kernel``).
    """

    async def shutdown_all(self, now: bool = False) -> None:  # type: ignore[override]
        kept = len(self._kernels)
        self._kernels.clear()
        if kept:
            self.log.info(
                "colab_local | leaving %d kernel(s) running on the gateway: reconnecting "
                "their notebooks after a restart resumes them (ColabLocal.keep_gateway_kernels)",
                kept,
            )


class ReattachingGatewaySessionManager(GatewaySessionManager):
    """Sessions whose kernel this server does not know yet are re-attached on the gateway;
    a kernel the gateway no longer has is said to be gone, and its session dropped."""

    async def kernel_culled(self, kernel_id: str) -> bool:
        if kernel_id in self.kernel_manager:
            return await self._gone_from_gateway(kernel_id)
        try:
            await self.kernel_manager.start_kernel(kernel_id=kernel_id)  # attach, not start
        except Exception as e:
            # The gateway is away, failing or refusing this server: nothing says the kernel
            # is gone (only the gateway's 404 does). The session is kept, and the request
            # answered 503, so Colab asks again; dropping it would orphan a kernel that
            # keeps running (and holding its GPU) on the gateway.
            self.kernel_manager.remove_kernel(kernel_id)
            self.log.warning(
                "colab_local | cannot re-attach kernel %s now (the session is kept; "
                "answered 503): %s",
                kernel_id,
                e,
            )
            raise web.HTTPError(
                503, f"the gateway cannot be asked about kernel {kernel_id} now: {e}"
            ) from e
        if self.kernel_manager.get_kernel(kernel_id).kernel is None:  # gone from the gateway
            self.kernel_manager.remove_kernel(kernel_id)
            return True
        self.log.info(
            "colab_local | re-attached kernel %s, still running on the gateway", kernel_id
        )
        return False

    async def _gone_from_gateway(self, kernel_id: str) -> bool:
        """Whether the gateway no longer has a kernel this server knows, asked of the gateway
        (``GET /api/kernels/<id>``, which gateways allow where listing is forbidden).

        jupyter_server's own answer comes from its list of the gateway's kernels, which it
        cannot fetch from a gateway that forbids listing (both gateways' default): a kernel
        culled or lost in a gateway restart stayed "alive", and the notebook's channel
        never answered. Gone, the session is dropped, so the notebook gets a new kernel.
        """
        if not await gone_from_gateway(self.kernel_manager.get_kernel(kernel_id), self.log):
            return False
        self.log.warning(
            "colab_local | kernel %s is gone from the gateway (culled, or lost in a gateway "
            "restart): its notebook gets a new kernel",
            kernel_id,
        )
        self.kernel_manager.remove_kernel(kernel_id)
        return True


def private_sessions_database(database: Path, log: logging.Logger) -> None:
    """Make ``database`` a private file (0600, in a private directory) before SQLite opens
    it: which notebook re-attaches to which kernel is not for other users to read or
    rewrite. One that others could reach, or that is not a regular file, is started anew."""
    ensure_private_directory(database.parent)
    problem = check_private(database)
    if problem:
        log.warning(
            "colab_local | sessions database %s was not used: %s. Started a new one: "
            "notebooks from before get new kernels once.",
            database,
            problem,
        )
        database.unlink()  # a symlink or FIFO itself, never its target
    create_private(database)


def _configured(serverapp: ServerApp, name: str) -> bool:
    return any(name in serverapp.config.get(section, {}) for section in _SERVER_SETTINGS)


def keep_gateway_kernels(serverapp: ServerApp, options: ColabLocal) -> None:
    """At link time: with a gateway, keep sessions and kernels across restarts, and hand
    no notebook a kernel the gateway lost.

    Leaves alone whatever the user configured (their own manager classes, their own
    sessions database).
    """
    gateway = GatewayClient.instance(parent=serverapp)
    if not gateway.gateway_enabled:
        return
    if not _configured(serverapp, "session_manager_class"):
        serverapp.session_manager_class = ReattachingGatewaySessionManager
    if not options.keep_gateway_kernels:
        if not _configured(serverapp, "kernel_manager_class"):
            serverapp.kernel_manager_class = ChannelReopeningGatewayManager
        serverapp.log.info(
            "colab_local | ColabLocal.keep_gateway_kernels=False: gateway kernels stop with "
            "this server."
        )
        return
    if "database_filepath" not in serverapp.config.get("SessionManager", {}):
        database = sessions_database(serverapp.port)
        try:
            private_sessions_database(database, serverapp.log)
        except (PrivateFileError, OSError) as e:
            # Kernels left running could never be found again: keep Jupyter's behaviour.
            serverapp.log.error(
                "colab_local | cannot keep gateway sessions in %s: %s. Gateway kernels stop "
                "with this server, as in plain Jupyter.",
                database,
                e,
            )
            if not _configured(serverapp, "kernel_manager_class"):
                serverapp.kernel_manager_class = ChannelReopeningGatewayManager
            return
        serverapp.config.SessionManager.database_filepath = str(database)
    if not _configured(serverapp, "kernel_manager_class"):
        serverapp.kernel_manager_class = KernelsKeepingGatewayManager
    serverapp.log.info(
        "colab_local | kernels run on the gateway at %s; sessions are kept in %s, so "
        "restarting this server keeps them",
        gateway.url,
        serverapp.config.SessionManager.database_filepath,
    )
