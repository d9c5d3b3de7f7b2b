"""What colab-local decided at startup, kept for the endpoints that report it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from colab_local.connect.gpu_probe import GpuProbe
from colab_local.options import ColabLocal

SETTINGS_KEY = "colab_local"


@dataclass
class ColabState:
    options: ColabLocal
    #: The persisted token colab-local configured at startup; None when the user chose one.
    persisted_token: str | None = None
    #: The port configured, before Jupyter's port_retries could move the server off it.
    configured_port: int | None = None
    gpu_probe: GpuProbe = field(default_factory=GpuProbe)
    _probe_lock: asyncio.Lock | None = None

    def probe_lock(self) -> asyncio.Lock:
        """One kernel probe at a time (made in the running loop, as Python 3.9 needs)."""
        if self._probe_lock is None:
            self._probe_lock = asyncio.Lock()
        return self._probe_lock
