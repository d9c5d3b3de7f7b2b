"""The old recipe's ``jupyter_http_over_ws`` extension, importable wherever it is listed.

Colab's old recipe enabled ``jupyter_http_over_ws`` as a server extension of its own,
often in the user's own config file. jupyter_server imports the extensions listed there
before those enabled by packages (colab_local), so it met upstream's import failure
(defect 1, ``notebook.base`` is gone) first and logged a warning with a traceback at
every start. This module, imported at interpreter start by ``colab_local_old_recipe.pth``
(which the wheel installs), makes that import run with colab-local's stand-ins instead:
the extension then loads as a no-op with a one-line hint (``jupyter colab tidy``).
colab-local imports upstream through the same hook (``upstream.import_upstream_handlers``).

Every Python start in the environment pays for this module, so it imports nothing but
``sys`` (always loaded): no ``typing``, no ``importlib.abc`` (the finder and loader
protocols are duck-typed, as the import system allows), no ``__future__`` (annotations
are strings). ``tests/installed/test_packaging.py`` pins what it loads;
``benchmarks/startup_hook.py`` measures its cost. The stand-ins themselves
(``colab_local.http_over_ws.stand_ins``) are imported only when ``jupyter_http_over_ws`` is.
"""

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # for type checkers only: none of these is imported at start
    import types
    from collections.abc import Sequence
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec, PathFinder

UPSTREAM = "jupyter_http_over_ws"


class _WithStandIns:
    """Upstream's own loader, run with colab-local's stand-in modules in place."""

    def __init__(self, loader: "Loader") -> None:
        self.loader = loader

    def create_module(self, spec: "ModuleSpec") -> "types.ModuleType | None":
        return self.loader.create_module(spec)

    def exec_module(self, module: "types.ModuleType") -> None:
        from colab_local.http_over_ws import stand_ins  # noqa: PLC0415 (only when it is needed)

        with stand_ins.stand_ins():
            self.loader.exec_module(module)
        stand_ins.silence_standalone_extension(module)


class OldRecipeFinder:
    """Finds ``jupyter_http_over_ws`` as the path finder does, and gives it the loader above."""

    @staticmethod
    def find_spec(
        fullname: str,
        path: "Sequence[str] | None" = None,
        target: "types.ModuleType | None" = None,
    ) -> "ModuleSpec | None":
        if fullname != UPSTREAM:
            return None
        spec = _path_finder().find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _WithStandIns(spec.loader)  # type: ignore[assignment]
        return spec


def _path_finder() -> "type[PathFinder]":
    """The import system's own path finder, as it sits in ``sys.meta_path`` (without
    importing ``importlib.machinery`` for it)."""
    for finder in sys.meta_path:
        if getattr(finder, "__name__", "") == "PathFinder":
            return finder  # type: ignore[return-value]
    from importlib.machinery import PathFinder  # noqa: PLC0415 (a meta path without it)

    return PathFinder


def install() -> None:
    if not any(isinstance(finder, OldRecipeFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, OldRecipeFinder())


install()
