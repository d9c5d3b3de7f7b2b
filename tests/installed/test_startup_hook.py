"""The old recipe's import hook, as the wheel installs it: what every Python start loads.

``colab_local_old_recipe.pth`` runs at each interpreter start in the environment, kernels
and pip included, so it may load only the hook module (and its packages), nothing of the
standard library that a bare start does not load already. Its cost is measured by
``benchmarks/startup_hook.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

SITE_PACKAGES = Path(sysconfig.get_path("purelib"))
PTH = SITE_PACKAGES / "colab_local_old_recipe.pth"
HOOK_MODULES = [
    "colab_local",
    "colab_local.http_over_ws",
    "colab_local.http_over_ws.old_recipe_hook",
]


def test_the_pth_is_one_import_of_the_hook_module():
    assert PTH.read_text() == "import colab_local.http_over_ws.old_recipe_hook\n"


def test_the_hook_loads_only_itself_at_interpreter_start():
    """The .pth's line run in a bare interpreter (no site): the modules it adds."""
    script = f"""
import sys
before = set(sys.modules)
sys.path.append({str(SITE_PACKAGES)!r})
exec({PTH.read_text()!r})
added = sorted(set(sys.modules) - before)
finders = [type(f).__name__ for f in sys.meta_path]
import json
print(json.dumps({{"added": added, "finders": finders}}))
"""
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report = json.loads(result.stdout)
    assert report["added"] == HOOK_MODULES
    assert report["finders"][0] == "OldRecipeFinder"


def test_a_normal_start_loads_no_typing_and_no_importlib_abc():
    script = (
        "import sys; print(' '.join(m for m in ('typing', 'importlib.abc', "
        "'importlib.machinery', 'importlib.resources', 'colab_local.http_over_ws.handlers', "
        "'colab_local.http_over_ws.stand_ins') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
