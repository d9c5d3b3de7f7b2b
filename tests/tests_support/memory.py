"""A process's memory, as tests and benchmarks read it: resident set size from /proc."""

from __future__ import annotations

import threading
from pathlib import Path


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` in MiB; LookupError once it has none (exited)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"process {pid} has no resident memory (exited?)")


class PeakRss:
    """Samples a process's RSS every few milliseconds while a block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def __enter__(self) -> PeakRss:
        self.base = rss_mib(self.pid)
        self.peak = self.base
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            try:
                self.peak = max(self.peak, rss_mib(self.pid))
            except (LookupError, OSError):  # the process ended: its peak is known
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> float:
        return self.peak - self.base
