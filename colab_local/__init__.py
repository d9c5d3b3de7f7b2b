"""colab-local: a Jupyter server that Google Colab can use as its local runtime."""

from __future__ import annotations

from typing import Any

from jupyter_server import version_info as _jupyter_server_version

from colab_local._version import __version__

if _jupyter_server_version < (2, 16):  # pragma: no cover - guarded by install_requires
    msg = (
        "colab-local needs jupyter_server >= 2.16 (found "
        f"{'.'.join(map(str, _jupyter_server_version))}); "
        "upgrade it: pip install -U jupyter_server"
    )
    raise ImportError(msg)

# Importing extension imports the HTTP-over-WebSocket handlers now, not at load time: if
# the old recipe also enables jupyter_http_over_ws as an extension of its own,
# jupyter_server imports it after this package, and only the compatibility import done
# here makes that import succeed.
from colab_local import extension

__all__ = ["__version__"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "colab_local"}]


def _link_jupyter_server_extension(serverapp: Any) -> None:
    extension.link(serverapp)


def _load_jupyter_server_extension(serverapp: Any) -> None:
    extension.load(serverapp)


async def _start_jupyter_server_extension(serverapp: Any) -> None:
    await extension.start(serverapp)
