"""What colab-local decided at startup for one server, kept for the endpoints that report it.

A shared room: it imports only ``config``; the objects it holds are made by ``extension``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from colab_local.config import ColabLocal

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

    from colab_local.diagnostics.contacts import ContactLog
    from colab_local.monitor.gpus import GpuSampler

SETTINGS_KEY = "colab_local"


@dataclass
class ColabState:
    options: ColabLocal
    #: GPU readings for Colab's resource monitor and the connect page (a thread).
    gpu_sampler: GpuSampler
    #: The last requests from Colab's page ("is Colab reaching me?").
    contacts: ContactLog
    #: The persisted token colab-local configured at startup; None when the user chose one.
    persisted_token: str | None = None
    #: The port configured, before Jupyter's port_retries could move the server off it.
    configured_port: int | None = None
    _probe_lock: asyncio.Lock | None = None

    def probe_lock(self) -> asyncio.Lock:
        """One kernel probe at a time (made in the running loop, as Python 3.9 needs)."""
        if self._probe_lock is None:
            self._probe_lock = asyncio.Lock()
        return self._probe_lock


def uses_gateway(serverapp: ServerApp) -> bool:
    """Whether kernels run on a gateway (``--gateway-url``), not on this server."""
    gateway = getattr(serverapp, "gateway_config", None)
    return bool(gateway is not None and gateway.gateway_enabled)


class ColabHandlerMixin:
    """Typed access to colab-local's state for its request handlers (the settings key is
    set at load time, before any request)."""

    settings: dict[str, Any]

    @property
    def server(self) -> ServerApp:
        """The ServerApp serving this request (jupyter_server types its own copy optional)."""
        serverapp: ServerApp = self.settings["serverapp"]
        return serverapp

    @property
    def colab_state(self) -> ColabState:
        state: ColabState = self.settings[SETTINGS_KEY]
        return state

    @property
    def colab_options(self) -> ColabLocal:
        return self.colab_state.options
