"""A GPU that is not there: a fake ``nvidia-smi`` and a fake ``torch``, for probe tests.

The kernel probe runs ``nvidia-smi -L`` from the kernel's PATH and imports torch from its
environment; these stand-ins, put on PATH and PYTHONPATH of whatever starts the kernel,
let a machine without a GPU test what the probe reports when there is one.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FAKE_GPU = "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-00000000-fake)"
FAKE_TORCH_VERSION = "2.99.0+fake"


def fake_gpu_environment(directory: Path, base_path: str) -> dict[str, str]:
    """Write the stand-ins under ``directory``; the PATH and PYTHONPATH that expose them."""
    bin_dir, site = directory / "bin", directory / "site"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (site / "torch").mkdir(parents=True, exist_ok=True)
    tool = bin_dir / "nvidia-smi"
    tool.write_text(f'#!/bin/sh\n[ "$1" = "-L" ] && echo "{FAKE_GPU}"\nexit 0\n')
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    (site / "torch" / "__init__.py").write_text(
        f'__version__ = "{FAKE_TORCH_VERSION}"\n\n\n'
        "class cuda:\n"
        "    @staticmethod\n"
        "    def is_available():\n"
        "        return True\n\n"
        "    @staticmethod\n"
        "    def device_count():\n"
        "        return 1\n"
    )
    return {"PATH": f"{bin_dir}{os.pathsep}{base_path}", "PYTHONPATH": str(site)}
