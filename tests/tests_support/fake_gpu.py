"""GPUs that are not there: a fake ``nvidia-smi`` and a fake ``torch`` for probe tests;
two GPUs behind a fake NVML binding (``pynvml``) and a fake ``nvidia-smi`` query for the
resource monitor (``FakeGpus``).

The kernel probe runs ``nvidia-smi -L`` from the kernel's PATH and imports torch from its
environment; these stand-ins, put on PATH and PYTHONPATH of whatever starts the kernel,
let a machine without a GPU test what the probe reports when there is one.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from tests_support.server_process import wait_for

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


#: Two GPUs as NVML and nvidia-smi report them: (name, MiB used, MiB total, % util, % mem).
FAKE_GPUS = [
    ("NVIDIA A100-SXM4-80GB", 1024, 81920, 37, 12),
    ("NVIDIA L4", 0, 23034, 0, 0),
]
MIB = 1024 * 1024

_NVML = """
import json, time
_STATE = {state!r}

class NVMLError(Exception):
    pass

def _state():
    with open(_STATE) as f:  # closed: a test's process must not warn of an unclosed file
        return json.load(f)

def _gpus():
    state = _state()
    while state.get("nvml_hangs"):
        time.sleep(0.05)  # a driver call that does not return
        state = _state()
    return state["gpus"]

class _Memory:
    def __init__(self, gpu):
        self.used, self.total = gpu[1] * {mib}, gpu[2] * {mib}
        self.free = self.total - self.used

class _Rates:
    def __init__(self, gpu):
        self.gpu, self.memory = gpu[3], gpu[4]

def nvmlInit():
    _gpus()

def nvmlShutdown():
    pass

def nvmlDeviceGetCount():
    return len(_gpus())

def nvmlDeviceGetHandleByIndex(index):
    return index

def nvmlDeviceGetName(handle):
    return _gpus()[handle][0]

def nvmlDeviceGetMemoryInfo(handle):
    return _Memory(_gpus()[handle])

def nvmlDeviceGetUtilizationRates(handle):
    return _Rates(_gpus()[handle])
"""

_NVIDIA_SMI = """#!{python}
import json, sys, time
with open({state!r}) as f:
    state = json.load(f)
with open({calls!r}, "a") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\\n")
mode = state.get("nvidia_smi", "ok")
if mode == "fails":
    print("NVIDIA-SMI has failed because it couldn't communicate with the driver", file=sys.stderr)
    sys.exit(9)
if mode == "hangs":
    time.sleep(600)  # a driver that does not answer
if mode == "garbles":
    print("No devices were found")
    sys.exit(0)
if mode == "invalid-utf8":
    sys.stdout.buffer.write(b"0, NVIDIA \\xff\\xfe, 1024, 81920, 37, 12\\n")
    sys.exit(0)
if mode == "superscript-index":
    print("\\u00b2, NVIDIA L4, 0, 23034, 0, 0")
    sys.exit(0)
if mode == "infinite-memory":
    print("0, NVIDIA L4, inf, nan, 0, 0")
    sys.exit(0)
if sys.argv[1:] == ["-L"]:
    for index, gpu in enumerate(state["gpus"]):
        print(f"GPU {{index}}: {{gpu[0]}} (UUID: GPU-{{index}}-fake)")
    sys.exit(0)
for index, gpu in reversed(list(enumerate(state["gpus"]))):  # order: by index, not output
    print(", ".join(str(v) for v in (index, *gpu)))
"""


class FakeGpus:
    """``FAKE_GPUS`` behind ``site/pynvml.py`` and ``bin/nvidia-smi`` under ``directory``,
    both reading ``gpus.json``, which the test changes (usage, failures)."""

    def __init__(self, directory: Path) -> None:
        self.state_file = directory / "gpus.json"
        self.calls_file = directory / "nvidia-smi-calls"
        self.bin, self.site = directory / "bin", directory / "site"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.site.mkdir(parents=True, exist_ok=True)
        self._state: dict[str, Any] = {"gpus": [list(gpu) for gpu in FAKE_GPUS]}
        self._save()
        self.nvidia_smi = self.bin / "nvidia-smi"
        self.nvidia_smi.write_text(
            _NVIDIA_SMI.format(
                python=sys.executable, state=str(self.state_file), calls=str(self.calls_file)
            )
        )
        self.nvidia_smi.chmod(0o755)
        (self.site / "pynvml.py").write_text(self.nvml_source())

    def nvml_source(self) -> str:
        return _NVML.format(state=str(self.state_file), mib=MIB)

    def environment(self, base_path: str, *, nvml: bool = True) -> dict[str, str]:
        """PATH (and PYTHONPATH, for the fake NVML) of a server that sees these GPUs."""
        env = {"PATH": f"{self.bin}{os.pathsep}{base_path}"}
        if nvml:
            env["PYTHONPATH"] = str(self.site)
        return env

    def _save(self) -> None:
        self.state_file.write_text(json.dumps(self._state))

    def set_memory_used(self, mib: list[int]) -> None:
        for gpu, used in zip(self._state["gpus"], mib):
            gpu[1] = used
        self._save()

    def break_nvidia_smi(self, how: str) -> None:
        self._state["nvidia_smi"] = how
        self._save()

    def hang_nvml(self) -> None:
        self._state["nvml_hangs"] = True
        self._save()

    def release_nvml(self) -> None:
        self._state["nvml_hangs"] = False
        self._save()

    def nvidia_smi_calls(self) -> int:
        return len(self.calls_file.read_text().splitlines()) if self.calls_file.exists() else 0

    def expected(self, ever_used: list[bool] | None) -> list[dict[str, Any]]:
        """What the resource monitor should report for the GPUs as they are now."""
        readings = []
        for index, (name, used, total, gpu, memory) in enumerate(self._state["gpus"]):
            reading: dict[str, Any] = {
                "name": name,
                "memoryUsedBytes": used * MIB,
                "memoryTotalBytes": total * MIB,
                "gpuUtilization": gpu / 100,
                "memoryUtilization": memory / 100,
            }
            if ever_used is not None:
                reading["everUsed"] = ever_used[index]
            readings.append(reading)
        return readings

    @staticmethod
    def wait_for_queries(sampler: Any, count: int) -> None:
        wait_for(lambda: sampler.queries >= count, 10, f"{count} GPU queries")
