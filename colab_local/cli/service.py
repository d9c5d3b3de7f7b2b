"""``jupyter colab service``: print, install or remove the systemd user units."""

from __future__ import annotations

import getpass
import importlib.util
from pathlib import Path

from traitlets import Bool, Integer, Unicode

from colab_local.cli.service_units import (
    FIRST_GATEWAY_PORT,
    GATEWAY_PORTS,
    KERNELS_UNIT_NAME,
    MARKER,
    SYSTEMD_RUNTIME_MARKER,
    UNIT_NAME,
    UnitValueError,
    kernels_unit_text,
    next_steps,
    systemd_available,
    unit_text,
    user_unit_dir,
    without_systemd_hint,
    write_gateway_env_file,
    write_unit,
)
from colab_local.cli.subcommand import ColabSubcommand
from colab_local.paths import gateway_env_file
from colab_local.private_files import PrivateFileError


class ColabServiceApp(ColabSubcommand):
    name = "jupyter-colab-service"
    description = (
        "Print a systemd user unit that keeps `jupyter notebook` running for this user (same "
        "URL, restarted on failure); --install writes it, --uninstall removes it. "
        "--kernel-gateway also runs the kernels in a unit of their own (a local Jupyter "
        "Kernel Gateway), so restarting the server keeps them."
    )
    install = Bool(False, config=True, help="Write the unit(s) to ~/.config/systemd/user.")
    uninstall = Bool(False, config=True, help="Remove the unit(s) --install wrote.")
    directory = Unicode("", config=True, help="Working directory of the server (default: here).")
    port = Integer(
        0,
        config=True,
        help="The server's port (default: Jupyter's, 8888); on a shared server, one of your own.",
    )
    kernel_gateway = Bool(
        False,
        config=True,
        help=(
            "Run the kernels in a second unit, a Jupyter Kernel Gateway on 127.0.0.1:"
            f"{FIRST_GATEWAY_PORT} + uid % {GATEWAY_PORTS} (a port per user), so that "
            "restarting or upgrading the server keeps them "
            "(needs pip install 'colab-local[gateway]')."
        ),
    )
    systemd_marker = Unicode(
        SYSTEMD_RUNTIME_MARKER,
        config=True,
        help="Directory whose presence means systemd runs this machine.",
    )
    flags = {
        "install": ({"ColabServiceApp": {"install": True}}, "Write the unit(s)."),
        "uninstall": ({"ColabServiceApp": {"uninstall": True}}, "Remove the unit(s)."),
        "kernel-gateway": (
            {"ColabServiceApp": {"kernel_gateway": True}},
            "Kernels in a unit of their own, which outlives server restarts.",
        ),
    }
    aliases = {"directory": "ColabServiceApp.directory", "port": "ColabServiceApp.port"}

    def start(self) -> None:
        unit_dir = user_unit_dir()
        if self.uninstall:
            for name in (UNIT_NAME, KERNELS_UNIT_NAME):
                self.remove(unit_dir / name, required=name == UNIT_NAME)
            return
        directory = Path(self.directory or Path.cwd()).expanduser().resolve()
        if not directory.is_dir():
            self.fail(f"{directory} is not a directory")
        env_file = gateway_env_file() if self.kernel_gateway else None
        if env_file is not None and importlib.util.find_spec("kernel_gateway") is None:
            self.fail(
                "--kernel-gateway needs Jupyter Kernel Gateway in this environment: "
                "pip install 'colab-local[gateway]'"
            )
        try:
            units = {
                UNIT_NAME: unit_text(directory, port=self.port or None, gateway_env_file=env_file)
            }
            if env_file is not None:
                units[KERNELS_UNIT_NAME] = kernels_unit_text(directory, env_file)
        except UnitValueError as e:
            self.fail(str(e))
        if self.install:
            try:
                self.install_units(unit_dir, units, env_file)
            except (PrivateFileError, OSError) as e:
                self.fail(f"cannot install the units: {e}")
        else:
            self.print_units(units, directory)
        if not systemd_available(self.systemd_marker):
            print(without_systemd_hint(directory, port=self.port or None))

    def print_units(self, units: dict[str, str], directory: Path) -> None:
        for name, text in units.items():
            print(f"# {name}")
            print(text)
        options = f" --directory {directory}"
        options += f" --port {self.port}" if self.port else ""
        options += " --kernel-gateway" if self.kernel_gateway else ""
        print(f"# Install: jupyter colab service --install{options}")

    @staticmethod
    def install_units(unit_dir: Path, units: dict[str, str], env_file: Path | None) -> None:
        if env_file is not None:
            replaced = write_gateway_env_file(env_file)
            if replaced:
                print(f"Warning: {replaced}")
        for name, text in units.items():
            write_unit(unit_dir / name, text)
            print(f"Wrote {unit_dir / name}.")
        print("Then run:")
        for step in next_steps(getpass.getuser(), list(reversed(units))):
            print(f"  {step}")
        print("The server keeps its persisted token, so the URL saved in Colab stays valid.")
        if env_file is not None:
            print(
                f"Kernels run in {KERNELS_UNIT_NAME}: `systemctl --user restart {UNIT_NAME}` "
                "keeps them and their variables."
            )

    def remove(self, path: Path, *, required: bool) -> None:
        if not path.exists():
            if required:
                print(f"Nothing to remove: {path} does not exist.")
            return
        if MARKER not in path.read_text(errors="replace"):
            self.fail(f"{path} was not written by jupyter colab service; left alone")
        path.unlink()
        print(f"Removed {path}. If it was enabled: systemctl --user disable --now {path.name}")
