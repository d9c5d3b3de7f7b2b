"""Which GPUs this server sees: ``nvidia-smi``, probed once in the background and cached."""

from __future__ import annotations

import asyncio
import shutil

GPU_PROBE_TIMEOUT = 5.0


class GpuProbe:
    """``nvidia-smi``'s list of GPUs, probed once in the background and cached."""

    def __init__(self) -> None:
        self.detail = "probing..."
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.ensure_future(self._probe())

    async def _probe(self) -> None:
        nvidia_smi = shutil.which("nvidia-smi")
        if nvidia_smi is None:
            self.detail = "none found (no nvidia-smi on this server's PATH)"
            return
        try:
            proc = await asyncio.create_subprocess_exec(
                nvidia_smi,
                "--query-gpu=name,memory.total",
                "--format=csv,noheader",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as e:
            self.detail = f"nvidia-smi could not run: {e.strerror}"
            return
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), GPU_PROBE_TIMEOUT)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            self.detail = f"nvidia-smi did not answer within {GPU_PROBE_TIMEOUT:.0f}s"
            return
        gpus = [line.strip() for line in out.decode(errors="replace").splitlines() if line.strip()]
        if proc.returncode != 0:
            self.detail = f"nvidia-smi failed (exit {proc.returncode})"
        elif gpus:
            self.detail = f"{len(gpus)} GPU(s): " + "; ".join(gpus)
        else:
            self.detail = "none found (nvidia-smi lists no GPU)"
