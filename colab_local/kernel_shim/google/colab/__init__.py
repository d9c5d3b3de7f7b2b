"""``google.colab`` for the kernels a colab-local server starts: the same notebook runs on
hosted Colab and on your own server (see the README's "Notebooks from hosted Colab").

colab-local puts this directory on a Python kernel's ``PYTHONPATH``, and nowhere else. A
real ``google-colab`` installed in the kernel's environment always wins: this package then
loads it in its own place and steps aside.
"""

from __future__ import annotations

import importlib.util as _util
import sys as _sys
from pathlib import Path as _Path


def _real_google_colab() -> _Path | None:
    """The directory of another ``google/colab`` package on the path, if there is one."""
    ours = _Path(__file__).resolve().parent
    for entry in list(getattr(_sys.modules.get("google"), "__path__", [])):
        candidate = _Path(entry).resolve() / "colab"
        if candidate != ours and (candidate / "__init__.py").is_file():
            return candidate
    return None


_real = _real_google_colab()
_spec = (
    None
    if _real is None
    else _util.spec_from_file_location(
        __name__, str(_real / "__init__.py"), submodule_search_locations=[str(_real)]
    )
)
if _spec is not None and _spec.loader is not None:
    # The import system returns whatever sys.modules holds once this module is executed.
    _module = _util.module_from_spec(_spec)
    _sys.modules[__name__] = _module
    _spec.loader.exec_module(_module)
else:
    #: Set in colab-local's google.colab only (a real one has no such name).
    COLAB_LOCAL = True
    from google.colab import (  # noqa: F401  (as hosted Colab, its modules come with it)
        _message,
        auth,
        drive,
        errors,
        files,
        output,
        patches,
        userdata,
    )
