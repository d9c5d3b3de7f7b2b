"""GPU readings, taken in a background thread, never per request: the only GPU reader (the
resource monitor's numbers and the "accelerators" line of ``/colab/connect`` and the doctor).

NVIDIA's own library (NVML, through ``nvidia-ml-py``'s ``pynvml``) first; ``nvidia-smi``
(its CSV query, with a timeout) where NVML cannot be loaded or fails. Colab's page polls
every few seconds; it gets the latest reading from the cache. A query that fails or hangs
is logged once and the page gets no GPUs, never an error.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import subprocess
import threading
import time
from typing import Any

#: What nvidia-smi is asked, the fields Colab's runtime image reads.
NVIDIA_SMI_QUERY = (
    "--query-gpu=index,name,memory.used,memory.total,utilization.gpu,utilization.memory"
)
MIB = 1024 * 1024


class GpuQueryError(Exception):
    """A GPU query failed; the message says how, for the log."""


def _percent(value: Any) -> float:
    """A utilization (percent) as a fraction 0-1; unknown ("[N/A]") as 0."""
    try:
        return max(0.0, min(1.0, float(value) / 100))
    except (TypeError, ValueError):
        return 0.0


def _mib(value: str) -> int:
    """MiB as bytes; unknown ("[N/A]", "inf", "nan") as 0."""
    try:
        number = float(value)
    except ValueError:
        return 0
    return int(number * MIB) if math.isfinite(number) and number >= 0 else 0


def read_nvidia_smi(nvidia_smi: str, timeout: float) -> list[dict[str, Any]]:
    """Each GPU from ``nvidia-smi``'s CSV, in index order."""
    try:
        done = subprocess.run(  # noqa: S603 (a fixed argv, the nvidia-smi on PATH)
            [nvidia_smi, NVIDIA_SMI_QUERY, "--format=csv,nounits,noheader"],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GpuQueryError(f"nvidia-smi did not answer within {timeout:g} s") from None
    except OSError as e:
        raise GpuQueryError(f"nvidia-smi could not run: {e.strerror}") from None
    # Whatever bytes it prints: a driver's garbage never stops the sampler.
    stdout = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()[:200]
        raise GpuQueryError(f"nvidia-smi exited {done.returncode}: {stderr}")
    rows = []
    for line in stdout.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 6 or not (fields[0].isascii() and fields[0].isdigit()):
            raise GpuQueryError(f"nvidia-smi answered an unexpected line: {line[:200]!r}")
        rows.append((int(fields[0]), fields))
    return [
        {
            "name": fields[1],
            "memoryUsedBytes": _mib(fields[2]),
            "memoryTotalBytes": _mib(fields[3]),
            "gpuUtilization": _percent(fields[4]),
            "memoryUtilization": _percent(fields[5]),
        }
        for _, fields in sorted(rows)
    ]


class Nvml:
    """NVML through ``pynvml``, initialised once; ``None`` from ``load`` where it is not
    there (no driver, no library)."""

    def __init__(self, pynvml: Any) -> None:
        self.pynvml = pynvml

    @classmethod
    def load(cls) -> Nvml | None:
        try:
            import pynvml  # noqa: PLC0415 (loaded in the sampling thread, when needed)

            pynvml.nvmlInit()
        except Exception:  # no library, no driver, no GPU: nvidia-smi may still answer
            return None
        return cls(pynvml)

    def read(self) -> list[dict[str, Any]]:
        nvml = self.pynvml
        try:
            gpus = []
            for index in range(nvml.nvmlDeviceGetCount()):
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                name = nvml.nvmlDeviceGetName(handle)
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                rates = nvml.nvmlDeviceGetUtilizationRates(handle)
                gpus.append(
                    {
                        "name": name.decode() if isinstance(name, bytes) else str(name),
                        "memoryUsedBytes": int(memory.used),
                        "memoryTotalBytes": int(memory.total),
                        "gpuUtilization": _percent(rates.gpu),
                        "memoryUtilization": _percent(rates.memory),
                    }
                )
        except Exception as e:
            raise GpuQueryError(f"NVML failed: {e}") from None
        return gpus


class GpuSampler:
    """The latest GPU readings, refreshed every ``interval`` seconds while someone asks.

    The thread starts on the first request and stops sampling ``idle_after`` seconds after
    the last one; a reading older than ``stale_after`` (a query that hangs) counts as none.
    """

    def __init__(
        self,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
        interval: float = 1.0,
        timeout: float = 1.0,
        idle_after: float = 60.0,
    ) -> None:
        self.log = log or logging.getLogger(__name__)
        self.interval = interval
        self.timeout = timeout
        self.idle_after = idle_after
        self.stale_after = 2 * interval + timeout + 1
        self.queries = 0  # how many queries were made (tests: none per request)
        self._gpus: list[dict[str, Any]] = []
        self._taken_at: float | None = None
        self._ever_used: dict[int, bool] = {}
        self._first = threading.Event()
        self._demand = threading.Event()
        self._last_demand = 0.0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._logged: set[str] = set()
        #: What answers ("NVML", "nvidia-smi"), None where nothing can; set by the thread.
        self.source: str | None = None
        #: Why the last query gave no readings, None when it answered.
        self.problem: str | None = None

    def demand(self) -> None:
        """Someone is watching: sample (again), starting the thread the first time."""
        self._last_demand = time.monotonic()
        self._demand.set()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="colab-local-gpu-sampler", daemon=True
                )
                self._thread.start()

    def wait_first(self, timeout: float) -> None:
        """Block up to ``timeout`` for the first reading (call from a worker thread)."""
        self._first.wait(timeout)

    @property
    def has_reading(self) -> bool:
        return self._first.is_set()

    def readings(self) -> list[dict[str, Any]]:
        """The latest readings, each with ``everUsed``; none if they are stale."""
        with self._lock:
            taken_at, gpus = self._taken_at, list(self._gpus)
        if taken_at is None:
            return []
        if time.monotonic() - taken_at > self.stale_after:
            self._log_once(
                "stale",
                "colab_local | the GPU query has not answered for %.0f s: the resource "
                "monitor shows no GPUs until it does",
                time.monotonic() - taken_at,
            )
            return []
        return gpus

    def describe(self) -> str:
        """The GPUs in one line, for people (``/colab/connect``, the doctor)."""
        if not self.has_reading:
            return "probing..."
        if self.source is None:
            return "none found (no NVML, no nvidia-smi on this server's PATH)"
        if self.problem:
            return self.problem
        gpus = self.readings()
        if not gpus:
            return f"none found ({self.source} lists no GPU)"
        listed = "; ".join(f"{g['name']}, {g['memoryTotalBytes'] // MIB} MiB" for g in gpus)
        return f"{len(gpus)} GPU(s) ({self.source}): {listed}"

    def _run(self) -> None:
        nvml = Nvml.load()
        nvidia_smi = None if nvml else shutil.which("nvidia-smi")
        self.source = "NVML" if nvml else "nvidia-smi" if nvidia_smi else None
        if nvml is None and nvidia_smi is None:
            self._log_once(
                "none",
                "colab_local | resource monitor: no GPU here (no NVML, no nvidia-smi)",
                level=logging.INFO,
            )
        while True:
            self._sample(nvml, nvidia_smi)
            self._first.set()
            if nvml is None and nvidia_smi is None:
                return  # nothing will ever answer: no GPUs, no thread
            time.sleep(self.interval)  # the sampling period, not a wait for a condition
            if time.monotonic() - self._last_demand > self.idle_after:
                self._demand.clear()
                self._demand.wait()

    def _sample(self, nvml: Nvml | None, nvidia_smi: str | None) -> None:
        gpus: list[dict[str, Any]] = []
        self.queries += 1
        problem = None
        try:
            gpus = self._query(nvml, nvidia_smi)
        except GpuQueryError as e:
            problem = str(e)
            self._log_once("query", "colab_local | resource monitor shows no GPUs: %s", e)
        except Exception as e:  # anything else a driver or tool returns: one line, once
            problem = f"the GPU query failed: {type(e).__name__}: {e}"
            self._log_once(
                "unexpected", "colab_local | resource monitor shows no GPUs: %s", problem
            )
        self.problem = problem
        with self._lock:
            for index, gpu in enumerate(gpus):
                used = self._ever_used.get(index, False) or gpu["memoryUsedBytes"] > 0
                self._ever_used[index] = used
                gpu["everUsed"] = used
            self._gpus, self._taken_at = gpus, time.monotonic()

    def _query(self, nvml: Nvml | None, nvidia_smi: str | None) -> list[dict[str, Any]]:
        if nvml is not None:
            try:
                return nvml.read()
            except GpuQueryError as e:
                self._log_once("nvml", "colab_local | resource monitor: %s", e)
                nvidia_smi = nvidia_smi or shutil.which("nvidia-smi")
                if nvidia_smi is None:
                    raise
        return read_nvidia_smi(nvidia_smi, self.timeout) if nvidia_smi is not None else []

    def _log_once(self, key: str, message: str, *args: Any, level: int = logging.WARNING) -> None:
        if key not in self._logged:
            self._logged.add(key)
            with contextlib.suppress(Exception):
                self.log.log(level, message, *args)
