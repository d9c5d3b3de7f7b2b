"""``jupyter colab secret``: set, list and delete this server's secrets for
``google.colab.userdata.get``. A value is read from standard input, never from the command
line (which other users can see in ``ps``), and never printed or logged.
"""

from __future__ import annotations

import sys
from pathlib import Path

from colab_local.cli.subcommand import ColabSubcommand
from colab_local.kernel_support.secret_store import SECRET_NAME, SecretsError, change, load
from colab_local.paths import secrets_file
from colab_local.private_files import PrivateFileError


class ColabSecretApp(ColabSubcommand):
    name = "jupyter-colab-secret"
    description = (
        "This server's secrets for google.colab.userdata.get: set NAME (the value from "
        "standard input), list, delete NAME."
    )
    usage = "jupyter colab secret set NAME < value-file | list | delete NAME"

    def start(self) -> None:
        action, *names = self.extra_args or [""]
        path = secrets_file()
        try:
            if action == "list" and not names:
                for name in sorted(load(path)):
                    print(name)
            elif action in ("set", "delete") and len(names) == 1:
                self._change(path, action, names[0])
            else:
                self.fail(f"usage: {self.usage}", 2)
        except (SecretsError, PrivateFileError, OSError) as e:
            self.fail(str(e))

    def _change(self, path: Path, action: str, name: str) -> None:
        if not SECRET_NAME.match(name):
            self.fail(f"{name!r} is not a secret's name (letters, digits and _)", 2)
        if action == "delete":
            if not change(path, name, None):
                self.fail(f"there is no secret {name}")
            print(f"Deleted {name}.")
            return
        if sys.stdin.isatty():
            print(f"Value of {name} (then Enter; it is not shown):", file=sys.stderr)
            import getpass  # noqa: PLC0415

            value = getpass.getpass("")
        else:
            value = sys.stdin.read()
            value = value[:-1] if value.endswith("\n") else value
        if not value:
            self.fail("no value on standard input: nothing was stored")
        replaced = change(path, name, value)
        print(f"{'Replaced' if replaced else 'Stored'} {name} in {path} (private: mode 0600).")
