"""colab-local: a Jupyter server that Google Colab can use as its local runtime.

This module only declares the extension points: the old recipe's import hook, installed
with the package, imports ``colab_local.http_over_ws.old_recipe_hook`` at every interpreter start,
and so this module too. So it imports nothing at module level (annotations are strings);
the server extension's modules are imported when jupyter_server links it.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]

#: The oldest jupyter_server colab-local runs on (the first with extension start hooks).
MINIMUM_JUPYTER_SERVER = (2, 16)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp


def _jupyter_server_extension_points() -> "list[dict[str, str]]":
    from jupyter_server import version_info  # noqa: PLC0415

    if version_info < MINIMUM_JUPYTER_SERVER:  # pragma: no cover - install_requires guards it
        found = ".".join(map(str, version_info))
        msg = (
            f"colab-local needs jupyter_server >= 2.16 (found {found}); "
            "upgrade it: pip install -U jupyter_server"
        )
        raise ImportError(msg)
    return [{"module": "colab_local"}]


def _link_jupyter_server_extension(serverapp: "ServerApp") -> None:
    from colab_local import extension  # noqa: PLC0415

    extension.link(serverapp)


def _load_jupyter_server_extension(serverapp: "ServerApp") -> None:
    from colab_local import extension  # noqa: PLC0415

    extension.load(serverapp)


async def _start_jupyter_server_extension(serverapp: "ServerApp") -> None:
    from colab_local import extension  # noqa: PLC0415

    await extension.start(serverapp)
