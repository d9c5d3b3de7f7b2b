"""How long ``jupyter colab url`` and ``jupyter colab doctor`` take, beside the server's import.

    python benchmarks/cli_start.py       # from a venv with colab-local installed (a wheel)

A throwaway JUPYTER home with one running ``jupyter notebook`` (colab-local loaded); the
rows give the median wall time of each command, interleaved with ``python -c 'import
jupyter_server.serverapp'`` (what every command cost before it stopped importing the
server). Target (the house issue): ``url`` and ``doctor`` answer in at most 0.3 s.
Exit status 0 when met.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from tests_support.server_process import JupyterProcess, free_port, isolated_env

RUNS = 11
TARGET_S = 0.3


def wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> int:
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or "jupyter"
    home = Path(tempfile.mkdtemp(prefix="colab-local-cli-"))
    port = free_port()
    server = JupyterProcess(home, ["--no-browser", "--allow-root", f"--port={port}"]).start()
    try:
        server.wait_ready()
        env = isolated_env(home)
        commands = {
            "jupyter colab url": [jupyter, "colab", "url", f"--port={port}"],
            "jupyter colab doctor": [jupyter, "colab", "doctor", f"--port={port}"],
            "import jupyter_server.serverapp": [
                sys.executable,
                "-c",
                "import jupyter_server.serverapp",
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(RUNS):
            for name, command in commands.items():
                times[name].append(wall(command, env))
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    medians = {name: statistics.median(runs) for name, runs in times.items()}
    reference = medians["import jupyter_server.serverapp"]
    print(f"median of {RUNS} interleaved runs, {os.cpu_count()} CPUs")
    met = True
    for name, seconds in medians.items():
        line = f"{name:<34} {seconds:6.2f} s  ({seconds / reference:4.2f}x the server's import)"
        if name.startswith("jupyter colab"):
            ok = seconds <= TARGET_S
            met = met and ok
            line += f"  target <= {TARGET_S} s: {'met' if ok else 'NOT met'}"
        print(line)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
