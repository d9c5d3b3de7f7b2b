"""What the old recipe's import hook (``colab_local_old_recipe.pth``) costs every Python start.

    python benchmarks/startup_hook.py       # from a venv with colab-local installed (a wheel)

Two bare virtual environments of this interpreter's base Python, identical but for the
hook: one gets the installed ``.pth`` and the ``colab_local`` package beside it, the other
nothing. ``python -X importtime -c pass`` runs in each, interleaved; the rows give the
medians of the total import time and of the wall time of the process, and the difference.
Target (the layout issue): the hook costs at most 2 ms of import time. Exit status 0 when met.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv
from pathlib import Path

PTH = "colab_local_old_recipe.pth"
RUNS = 41
TARGET_MS = 2.0


def site_packages(env: Path) -> Path:
    return Path(sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)}))


def bare_env(where: Path) -> Path:
    venv.EnvBuilder(with_pip=False, symlinks=True).create(where)
    return where / "bin" / "python"


def one_start(python: Path) -> tuple[float, float]:
    """(import time of every module, wall time of the process), in ms."""
    started = time.perf_counter()
    result = subprocess.run(
        [str(python), "-X", "importtime", "-c", "pass"],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = (time.perf_counter() - started) * 1000
    imports = 0
    for line in result.stderr.splitlines():
        fields = line.split("|")
        timed = line.startswith("import time:") and len(fields) == 3
        if not timed or not fields[1].strip().isdigit():
            continue
        if not fields[2].startswith("  "):  # a top-level import: its cumulative time
            imports += int(fields[1])
    return imports / 1000, wall


def main() -> int:
    installed = Path(sysconfig.get_path("purelib"))
    if not (installed / PTH).is_file():
        print(f"no {PTH} in {installed}: install colab-local as a wheel first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        without = bare_env(Path(scratch) / "without")
        with_hook = bare_env(Path(scratch) / "with")
        target = site_packages(Path(scratch) / "with")
        shutil.copy2(installed / PTH, target / PTH)
        shutil.copytree(installed / "colab_local", target / "colab_local")
        for python in (without, with_hook):  # warm the page cache and the bytecode
            one_start(python)
        samples: dict[Path, list[tuple[float, float]]] = {without: [], with_hook: []}
        for _ in range(RUNS):
            for python in (without, with_hook):
                samples[python].append(one_start(python))
    medians = {
        python: (
            statistics.median(s[0] for s in runs),
            statistics.median(s[1] for s in runs),
        )
        for python, runs in samples.items()
    }
    hook_imports = medians[with_hook][0] - medians[without][0]
    hook_wall = medians[with_hook][1] - medians[without][1]
    print(f"python -X importtime -c pass, median of {RUNS} interleaved runs each")
    print(f"{'':<26}{'without hook':>14}{'with hook':>12}{'hook costs':>12}  target")
    print(
        f"{'import time, all modules':<26}{medians[without][0]:>11.2f} ms"
        f"{medians[with_hook][0]:>9.2f} ms{hook_imports:>9.2f} ms  <= {TARGET_MS:g} ms: "
        f"{'met' if hook_imports <= TARGET_MS else 'NOT MET'}"
    )
    print(
        f"{'wall time of the process':<26}{medians[without][1]:>11.2f} ms"
        f"{medians[with_hook][1]:>9.2f} ms{hook_wall:>9.2f} ms  (for reference)"
    )
    return 0 if hook_imports <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
