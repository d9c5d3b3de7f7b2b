"""Stand-ins that let upstream's ``jupyter_http_over_ws`` import and load on today's stack.

Defects 1 and 3 of ``colab_local.http_over_ws.upstream`` (the catalogue): the modules upstream
imports that are gone, put in place only while it imports; and the old recipe's own
extension entry points, turned into a no-op with a hint. Used by the import hook
(``import_hook``), so it imports nothing of ``colab_local.http_over_ws``.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
import types
from collections.abc import Iterator
from typing import TYPE_CHECKING

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

_STRICT_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$", re.ASCII)


@functools.total_ordering
class StrictVersion:
    """The subset of ``distutils.version.StrictVersion`` that jupyter_http_over_ws uses.

    Defect 3: distutils is gone in Python 3.12. Same grammar as distutils: ``N.N[.N][{a|b}N]``;
    anything else raises ``ValueError``, which upstream turns into "Invalid min_version".
    """

    def __init__(self, vstring: str) -> None:
        match = _STRICT_VERSION.match(str(vstring))
        if match is None:
            raise ValueError(f"invalid version number {vstring!r}")
        major, minor, patch, pre_tag, pre_num = match.groups()
        self.version = (int(major), int(minor), int(patch or 0))
        self.prerelease = (pre_tag, int(pre_num)) if pre_tag else None
        self._text = vstring

    def _key(self) -> tuple[tuple[int, int, int], tuple[int, str, int]]:
        # A release sorts after its own pre-releases, as in distutils.
        pre = (0, *self.prerelease) if self.prerelease else (1, "", 0)
        return self.version, pre

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = StrictVersion(other)
        if not isinstance(other, StrictVersion):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: object) -> bool:
        if isinstance(other, str):
            other = StrictVersion(other)
        if not isinstance(other, StrictVersion):
            return NotImplemented
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"StrictVersion({self._text!r})"


def _stand_in_modules() -> dict[str, types.ModuleType]:
    """Modules jupyter_http_over_ws imports that no longer exist (defects 1 and 3)."""
    notebook_base = types.ModuleType("notebook.base")
    notebook_base_handlers = types.ModuleType("notebook.base.handlers")
    notebook_base_handlers.IPythonHandler = JupyterHandler  # type: ignore[attr-defined]
    notebook_base.handlers = notebook_base_handlers  # type: ignore[attr-defined]
    notebook_utils = types.ModuleType("notebook.utils")
    notebook_utils.url_path_join = url_path_join  # type: ignore[attr-defined]
    distutils = types.ModuleType("distutils")
    distutils_version = types.ModuleType("distutils.version")
    distutils_version.StrictVersion = StrictVersion  # type: ignore[attr-defined]
    distutils.version = distutils_version  # type: ignore[attr-defined]
    return {
        "notebook.base": notebook_base,
        "notebook.base.handlers": notebook_base_handlers,
        "notebook.utils": notebook_utils,
        "distutils": distutils,
        "distutils.version": distutils_version,
    }


@contextlib.contextmanager
def _temporary_modules(modules: dict[str, types.ModuleType]) -> Iterator[None]:
    """Put ``modules`` into ``sys.modules`` for the duration, then restore exactly what was there.

    Only the named submodules are touched: ``sys.modules["notebook"]`` (the real Notebook 7)
    is never replaced, and nothing stays behind for other code to trip over.
    """
    missing = object()
    saved = {name: sys.modules.get(name, missing) for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is missing:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous  # type: ignore[assignment]


def stand_ins() -> contextlib.AbstractContextManager[None]:
    """The stand-in modules upstream's import needs, in place for a ``with`` block."""
    return _temporary_modules(_stand_in_modules())


def _standalone_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyter_http_over_ws"}]


def _standalone_load(serverapp: ServerApp) -> None:
    serverapp.log.info(
        "jupyter_http_over_ws is enabled as an extension of its own (the old recipe): "
        "colab_local serves its endpoints already; `jupyter colab tidy` removes the setting."
    )


def silence_standalone_extension(package: types.ModuleType) -> None:
    """Let the old recipe's ``jupyter_http_over_ws`` extension load cleanly, doing nothing.

    Upstream's own loader registers unpatched handlers and ``print``s; with colab_local
    loaded (always first: "colab_local" sorts before it) the endpoints already exist.
    It also only offers the deprecated ``_jupyter_server_extension_paths``, which makes
    jupyter_server log a deprecation warning at every start.
    """
    package._jupyter_server_extension_points = _standalone_extension_points  # type: ignore[attr-defined]
    package._load_jupyter_server_extension = _standalone_load  # type: ignore[attr-defined]
