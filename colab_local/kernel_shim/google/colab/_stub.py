"""Stand-ins for the parts of google.colab only hosted Colab has: they import, and calling
them raises one clear error naming what to do on your own server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from google.colab.errors import LocalRuntimeError


def unavailable(module: str, name: str, advice: str) -> Callable[..., NoReturn]:
    def stand_in(*args: Any, **kwargs: Any) -> NoReturn:
        raise LocalRuntimeError(
            f"{module}.{name} needs hosted Colab (Google's VMs and services); on a local "
            f"runtime (colab-local): {advice}"
        )

    stand_in.__name__ = name
    stand_in.__qualname__ = name
    return stand_in


def module_getattr(module: str, advice: str) -> Callable[[str], Any]:
    """A module ``__getattr__``: any public name is a stand-in."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return unavailable(module, name, advice)

    return __getattr__
