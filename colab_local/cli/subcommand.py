"""What every ``jupyter colab`` subcommand shares: the server's configuration, read the way
``jupyter notebook`` reads it, and one way to fail."""

from __future__ import annotations

import sys
from typing import NoReturn

from jupyter_core.application import JupyterApp

from colab_local import __version__
from colab_local.config import ColabLocal
from colab_local.workarounds.server_import_cost import ServerApp


class ColabSubcommand(JupyterApp):
    """Shared: reading the server's configuration the way ``jupyter notebook`` does."""

    version = __version__
    classes = [ColabLocal]

    def server_config(self) -> ServerApp:
        """The server's settings: the user's config files, environment and command line."""
        server = ServerApp(log=self.log)
        server.load_config_file()
        server.update_config(self.config)
        return server

    def options(self, server: ServerApp) -> ColabLocal:
        return ColabLocal(config=server.config)

    def fail(self, message: str, status: int = 1) -> NoReturn:
        print(f"jupyter colab: {message}", file=sys.stderr)
        self.exit(status)
        raise SystemExit(status)  # for type checkers: exit() does not return
