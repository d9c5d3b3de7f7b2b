"""What colab-local decided at startup, kept for the endpoints that report it."""

from __future__ import annotations

from dataclasses import dataclass, field

from colab_local.colab_settings import ColabLocal
from colab_local.gpu_probe import GpuProbe

SETTINGS_KEY = "colab_local"


@dataclass
class ColabState:
    options: ColabLocal
    #: The persisted token colab-local configured at startup; None when the user chose one.
    persisted_token: str | None = None
    #: The port configured, before Jupyter's port_retries could move the server off it.
    configured_port: int | None = None
    gpu_probe: GpuProbe = field(default_factory=GpuProbe)
