"""``jupyter colab tidy``: remove what Colab's old recipe left in Jupyter's configuration.

The old recipe enabled ``jupyter_http_over_ws`` as a server extension of its own, in the
user's config or the environment's (``jupyter serverextension enable --py``, ``jupyter
server extension enable``, hand-written JSON). colab-local serves its endpoints itself,
so the setting is only noise now; and ``jupyter server extension disable
jupyter_http_over_ws`` cannot remove it (it validates the extension by importing it,
which fails on Notebook 7, and writes to one config directory only). This finds the
setting in every JSON config file Jupyter reads and removes it, leaving everything else
as it was; Python config files are pointed out, not edited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_config_path
from traitlets import Bool

from colab_local.cli.subcommand import ColabSubcommand

OLD_EXTENSION = "jupyter_http_over_ws"
_CONFIG_NAMES = ("jupyter_server_config", "jupyter_notebook_config")
_SECTIONS = ("ServerApp", "NotebookApp")
_KEYS = ("jpserver_extensions", "nbserver_extensions")


@dataclass(frozen=True)
class Finding:
    """One place the old recipe's setting is, and what was (or would be) done with it."""

    path: Path
    done: str
    #: False when it could not be removed here (a Python file, a file we cannot write).
    tidied: bool = True

    def __str__(self) -> str:
        return f"{self.path}: {self.done}"


def config_files(config_dirs: list[str]) -> list[Path]:
    """Every config file Jupyter reads in ``config_dirs``, JSON and Python."""
    files: list[Path] = []
    for directory in map(Path, config_dirs):
        for name in _CONFIG_NAMES:
            files += [directory / f"{name}.json", directory / f"{name}.py"]
            files += sorted((directory / f"{name}.d").glob("*.json"))
    return [path for path in files if path.is_file()]


def _without_old_extension(config: dict[str, Any]) -> list[str]:
    """Remove the setting from ``config`` (in place); the settings it was found in."""
    found = []
    for section in _SECTIONS:
        for key in _KEYS:
            extensions = config.get(section, {}).get(key)
            if isinstance(extensions, dict) and OLD_EXTENSION in extensions:
                del extensions[OLD_EXTENSION]
                found.append(f"{section}.{key}")
                if not extensions:
                    del config[section][key]
            if section in config and not config[section]:
                del config[section]
    return found


def _tidy_json(path: Path, dry_run: bool) -> Finding | None:
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        return Finding(path, f"cannot be read ({e}); check it by hand", tidied=False)
    if not isinstance(config, dict):
        return None
    found = _without_old_extension(config)
    if not found:
        return None
    delete = not config and path.parent.name.endswith(".d")
    what = f"{OLD_EXTENSION} in {', '.join(found)}"
    if dry_run:
        return Finding(
            path, f"would {'delete the file, which only enables' if delete else 'remove'} {what}"
        )
    try:
        if delete:
            path.unlink()
        else:
            path.write_text(json.dumps(config, indent=2) + "\n")
    except OSError as e:
        return Finding(
            path, f"cannot edit it ({e.strerror}): remove {what} as its owner", tidied=False
        )
    return Finding(
        path, f"deleted the file, which only enabled {what}" if delete else f"removed {what}"
    )


def _python_mentions(path: Path) -> Finding | None:
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    numbers = [str(n) for n, line in enumerate(lines, 1) if OLD_EXTENSION in line]
    if not numbers:
        return None
    return Finding(
        path,
        f"mentions {OLD_EXTENSION} on line {', '.join(numbers)}: a Python config file is "
        "yours to edit; remove it there",
        tidied=False,
    )


def tidy(config_dirs: list[str], dry_run: bool = False) -> list[Finding]:
    """Remove the old recipe's setting from every JSON config file in ``config_dirs``."""
    findings = []
    for path in config_files(config_dirs):
        finding = _python_mentions(path) if path.suffix == ".py" else _tidy_json(path, dry_run)
        if finding is not None:
            findings.append(finding)
    return findings


class ColabTidyApp(ColabSubcommand):
    name = "jupyter-colab-tidy"
    description = (
        "Remove what Colab's old recipe left: jupyter_http_over_ws enabled as an extension "
        "of its own, in every Jupyter config directory (colab-local serves its endpoints). "
        "Exit status 1 if a setting remains that must be removed by hand."
    )
    dry_run = Bool(False, config=True, help="Say what would be removed; change nothing.")
    flags = {"dry-run": ({"ColabTidyApp": {"dry_run": True}}, "Change nothing.")}

    def start(self) -> None:
        findings = tidy(jupyter_config_path(), dry_run=self.dry_run)
        if not findings:
            print(f"Nothing to tidy: no Jupyter config enables {OLD_EXTENSION}.")
            return
        for finding in findings:
            print(finding)
        if not all(finding.tidied for finding in findings):
            self.fail("some settings must be removed by hand (above)")
        if not self.dry_run:
            print("Restart the server; colab-local keeps serving Colab as before.")
