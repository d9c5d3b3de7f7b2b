"""The old recipe's ``jupyter_http_over_ws`` extension, importable wherever it is listed.

Colab's old recipe enabled ``jupyter_http_over_ws`` as a server extension of its own,
often in the user's own config file. jupyter_server imports the extensions listed there
before those enabled by packages (colab_local), so it met upstream's import failure
(defect 1, ``notebook.base`` is gone) first and logged a warning with a traceback at
every start. This module, imported at interpreter start by ``colab_local_old_recipe.pth``
(which the wheel installs), makes that import run with colab-local's stand-ins instead:
the extension then loads as a no-op with a one-line hint (``jupyter colab tidy``).
colab-local imports upstream through the same hook (``upstream.import_upstream_handlers``).

It imports only the standard library, so the cost at every start is one small module;
colab-local's own code is imported only when ``jupyter_http_over_ws`` is.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

UPSTREAM = "jupyter_http_over_ws"


class _WithStandIns(importlib.abc.Loader):
    """Upstream's own loader, run with colab-local's stand-in modules in place."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        from colab_local.legacy import stand_ins  # noqa: PLC0415 (only when it is needed)

        with stand_ins.stand_ins():
            self.loader.exec_module(module)
        stand_ins.silence_standalone_extension(module)


class OldRecipeFinder(importlib.abc.MetaPathFinder):
    """Finds ``jupyter_http_over_ws`` as usual, and gives it the loader above."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != UPSTREAM:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _WithStandIns(spec.loader)
        return spec


def install() -> None:
    if not any(isinstance(finder, OldRecipeFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, OldRecipeFinder())


install()
