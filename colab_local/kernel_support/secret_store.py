"""This server's secrets for ``google.colab.userdata.get``: ``jupyter colab secret``.

One private file (0600, in colab-local's private data directory), written atomically and
under the directory's lock; a value is read from standard input, never from the command
line (which other users can see in ``ps``), and never printed or logged.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from colab_local.cli.subcommand import ColabSubcommand
from colab_local.kernel_support.provisioner import secrets_file
from colab_local.private_files import (
    PrivateFileError,
    ensure_private_directory,
    locked,
    read_private,
    write_private,
)

#: As Colab's Secrets panel names them: letters, digits, underscores.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class SecretsError(Exception):
    """The secrets file cannot be used; the message says why."""


def load(path: Path) -> dict[str, str]:
    text, problem = read_private(path)
    if text is None:
        if problem:
            raise SecretsError(f"{path} was not used: {problem}")
        return {}
    try:
        secrets = json.loads(text)
    except ValueError as e:
        raise SecretsError(f"{path} is not JSON ({e}): fix or delete it") from None
    if not isinstance(secrets, dict):
        raise SecretsError(f"{path} is not a JSON object: fix or delete it")
    return {str(name): str(value) for name, value in secrets.items()}


def change(path: Path, name: str, value: str | None) -> bool:
    """Set ``name`` (``value``) or delete it (None); whether it was there before."""
    ensure_private_directory(path.parent)
    with locked(path.parent):
        secrets = load(path)
        existed = name in secrets
        if value is None:
            secrets.pop(name, None)
        else:
            secrets[name] = value
        write_private(path, json.dumps(secrets, indent=1, sort_keys=True) + "\n")
    return existed


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
        if not _NAME.match(name):
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
