"""The resource monitor's answer: this server's memory and disk, read per request (psutil
reads /proc, microseconds), its kernels' resident memory, and the cached GPU readings.

With kernels on a gateway the memory and disk are still this server's (the machine Colab
is connected to), but the kernels' memory is not here to read: ``kernels`` is left out,
as Colab's own runtime image leaves it out where it cannot attribute memory.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psutil

from colab_local.monitor.gpus import GpuSampler


def kernel_memory(kernel_pids: dict[str, int]) -> list[dict[str, Any]]:
    """Resident memory of each kernel process that is still there."""
    kernels = []
    for kernel_id, pid in kernel_pids.items():
        with contextlib.suppress(psutil.Error):
            kernels.append({"uuid": kernel_id, "usedBytes": psutil.Process(pid).memory_info().rss})
    return kernels


def resources(
    disk_path: str, gpus: GpuSampler, kernel_pids: dict[str, int] | None
) -> dict[str, Any]:
    """``/api/colab/resources``'s body; ``kernel_pids`` None: kernels are not on this machine."""
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(disk_path)
    answer: dict[str, Any] = {
        "memory": {"totalBytes": memory.total, "freeBytes": memory.available},
        "disks": [
            {"filesystem": {"label": "kernel", "totalBytes": disk.total, "usedBytes": disk.used}}
        ],
        "gpus": gpus.readings(),
    }
    if kernel_pids is not None:
        answer["memory"]["kernels"] = kernel_memory(kernel_pids)
    return answer
