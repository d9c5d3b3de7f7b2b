"""The package's layout holds: rooms import only the rooms this table allows, no import
cycles, every module importable on its own."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import colab_local

PACKAGE = Path(colab_local.__file__).parent
#: Not colab_local's code but the google.colab package its kernels get (their PYTHONPATH).
KERNEL_SHIM = PACKAGE / "kernel_shim"


def package_files() -> list[Path]:
    return [path for path in PACKAGE.rglob("*.py") if KERNEL_SHIM not in path.parents]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> list[str]:
    return sorted(module_name(path) for path in package_files())


def imports_at_import_time(path: Path) -> set[str]:
    """colab_local modules ``path`` imports when it is imported (not inside functions, not
    under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    here = module_name(path).split(".")
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_package else here[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    modules = set(all_modules())
    return {name for name in found if name in modules and name != module_name(path)}


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for path in package_files():
        # A package importing its own submodules is no cycle (the package is in
        # sys.modules before its body runs); a submodule importing its package back is.
        graph[module_name(path)] = imports_at_import_time(path)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = visit(node)
        if cycle:
            return cycle
    return None


#: Which rooms each room may import (a room: a subpackage or a flat module of colab_local;
#: the package itself, which only declares the extension points, is open to all). Shared
#: foundations import nothing of colab_local; workarounds and the tunnel never import the
#: diagnostics; only the CLI, the extension and the diagnostics fan out.
FOUNDATIONS = {"config", "paths", "private_files"}
ALLOWED_IMPORTS: dict[str, set[str]] = {
    "config": set(),
    "paths": set(),
    "private_files": set(),
    "connection_info": {"config"},
    "runtime": {"config"},
    "server_config": FOUNDATIONS | {"connection_info"},
    "workarounds": FOUNDATIONS | {"runtime"},
    "http_over_ws": FOUNDATIONS | {"runtime", "workarounds"},
    "monitor": FOUNDATIONS | {"runtime"},
    "kernel_support": FOUNDATIONS | {"runtime"},
    "diagnostics": FOUNDATIONS
    | {"connection_info", "runtime", "server_config", "workarounds", "http_over_ws"}
    | {"monitor", "kernel_support"},
    "cli": FOUNDATIONS
    | {"connection_info", "server_config", "kernel_support", "diagnostics", "workarounds"},
    "extension": FOUNDATIONS
    | {"connection_info", "runtime", "server_config", "workarounds", "http_over_ws"}
    | {"monitor", "kernel_support", "diagnostics"},
}
MAX_FLAT_MODULES = 8


def room_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "colab_local"


def rooms() -> set[str]:
    found = {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    found |= {
        path.parent.name for path in PACKAGE.glob("*/__init__.py") if path.parent != KERNEL_SHIM
    }
    return found


def test_every_room_is_in_the_allowed_imports_table():
    assert rooms() == set(ALLOWED_IMPORTS)


def test_each_room_imports_only_what_the_table_allows():
    forbidden = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in targets
        if room_of(target) not in {room_of(module), "colab_local"}
        and room_of(target) not in ALLOWED_IMPORTS[room_of(module)]
    )
    assert forbidden == []


def test_the_table_catches_an_import_against_the_grain():
    graph = {"colab_local.config": {"colab_local.diagnostics.health"}}
    rule = ALLOWED_IMPORTS[room_of("colab_local.config")]
    assert [t for t in graph["colab_local.config"] if room_of(t) not in rule]


def stdlib_module_names() -> set[str]:
    names = getattr(sys, "stdlib_module_names", None)  # Python 3.10+
    if names is not None:
        return set(names)
    stdlib = Path(sysconfig.get_paths()["stdlib"])  # 3.9: what its library directory holds
    found = {path.stem for path in stdlib.glob("*.py")}
    found |= {path.parent.name for path in stdlib.glob("*/__init__.py")}
    return found | set(sys.builtin_module_names)


def test_few_flat_modules_and_none_named_after_the_standard_library():
    flat = [path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"]
    assert len(flat) <= MAX_FLAT_MODULES, sorted(flat)
    stdlib = stdlib_module_names()
    assert "secrets" in stdlib
    clashes = sorted(module_name(path) for path in package_files() if path.stem in stdlib)
    assert clashes == []


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_colab_local_has_no_import_cycles():
    graph = import_graph()
    assert "colab_local.http_over_ws.upstream" in graph
    assert find_cycle(graph) is None


def test_the_old_recipe_hook_never_imports_the_tunnel():
    """It runs at every Python start; the stand-ins when upstream is imported."""
    graph = import_graph()
    start_up = {"colab_local.http_over_ws.old_recipe_hook", "colab_local.http_over_ws.stand_ins"}
    for name in start_up:
        assert graph[name] <= start_up | {"colab_local"}, name


_IMPORT_EACH_ALONE = """
import importlib, json, sys
failures = {}
prefixes = tuple(json.loads(sys.argv[2]))
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m.startswith(prefixes)]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as e:
        failures[name] = f"{type(e).__name__}: {e}"
print(json.dumps(failures))
"""


def import_failures(
    names: list[str], forget: tuple[str, ...], env: dict[str, str] | None = None
) -> dict[str, str]:
    """Each of ``names`` imported first in one fresh interpreter, the modules named
    ``forget*`` dropped before each; why the ones that failed failed."""
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH_ALONE, json.dumps(names), json.dumps(forget)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    failures: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return failures


def test_each_module_imports_alone_in_a_fresh_interpreter():
    """Each module imported first, with nothing of colab_local (or upstream) loaded before."""
    assert import_failures(all_modules(), ("colab_local", "jupyter_http_over_ws")) == {}


def test_a_fresh_import_of_upstream_runs_its_module_once():
    """Through the old recipe's hook: upstream's __init__ runs once, not nested in itself."""
    script = (
        "import colab_local.http_over_ws.old_recipe_hook as hook; hook.install(); "
        "import jupyter_http_over_ws, sys; "
        "print(sorted(m for m in sys.modules if m.startswith('colab_local')))"
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    executed = [
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    assert executed.count("jupyter_http_over_ws") == 1
    assert executed.count("jupyter_http_over_ws.handlers") == 1
    loaded = eval(result.stdout.strip())  # noqa: S307 (our own script's printed list)
    hook_only = {
        "colab_local",
        "colab_local.http_over_ws",
        "colab_local.http_over_ws.old_recipe_hook",
        "colab_local.http_over_ws.stand_ins",
    }
    assert set(loaded) <= hook_only, loaded


def test_each_google_colab_module_imports_alone_outside_a_kernel():
    """Nothing of the kernels' google.colab fails at import, even with no kernel around."""
    names = sorted(
        ".".join(path.relative_to(KERNEL_SHIM).with_suffix("").parts).removesuffix(".__init__")
        for path in KERNEL_SHIM.rglob("*.py")
    )
    assert "google.colab.drive" in names
    env = {"PYTHONPATH": str(KERNEL_SHIM), "PATH": "/usr/bin:/bin"}
    assert import_failures(names, ("google.colab",), env) == {}
