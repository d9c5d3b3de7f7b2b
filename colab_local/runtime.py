"""What colab-local decided at startup, kept for the endpoints that report it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from colab_local.config import ColabLocal
from colab_local.diagnostics.contacts import ContactLog
from colab_local.monitor.gpus import GpuSampler

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

SETTINGS_KEY = "colab_local"


@dataclass
class ColabState:
    options: ColabLocal
    #: The persisted token colab-local configured at startup; None when the user chose one.
    persisted_token: str | None = None
    #: The port configured, before Jupyter's port_retries could move the server off it.
    configured_port: int | None = None
    #: GPU readings for Colab's resource monitor (a thread, from the first request on).
    gpu_sampler: GpuSampler = field(default_factory=GpuSampler)
    #: The last requests from Colab's page ("is Colab reaching me?").
    contacts: ContactLog = field(default_factory=ContactLog)
    _probe_lock: asyncio.Lock | None = None

    def probe_lock(self) -> asyncio.Lock:
        """One kernel probe at a time (made in the running loop, as Python 3.9 needs)."""
        if self._probe_lock is None:
            self._probe_lock = asyncio.Lock()
        return self._probe_lock


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
