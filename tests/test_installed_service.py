"""``jupyter colab service``: a systemd user unit that outlives the SSH session.

CI has no systemd user session: these tests check the file, not a running service.
"""

from __future__ import annotations

import sys

import pytest

from colab_local.service_unit import MARKER, unit_text
from tests_support.server_process import isolated_env, run_jupyter

pytestmark = pytest.mark.installed


def service(tmp_path, *args, systemd=False):
    marker = tmp_path if systemd else tmp_path / "no-systemd-here"
    env = isolated_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    return run_jupyter(
        tmp_path, "colab", "service", f"--ColabServiceApp.systemd_marker={marker}", *args, env=env
    )


def test_unit_runs_this_interpreter_in_the_directory_and_restarts(tmp_path):
    text = unit_text(tmp_path, as_root=False)
    lines = text.splitlines()
    assert f"ExecStart={sys.executable} -m jupyter notebook --no-browser" in lines
    assert f"WorkingDirectory={tmp_path}" in lines
    assert "Restart=on-failure" in lines
    assert "WantedBy=default.target" in lines
    assert (
        "token" not in text.lower()
    )  # the persisted token keeps the URL; none on the command line


def test_unit_for_root_allows_root(tmp_path):
    assert unit_text(tmp_path, as_root=True).count("--allow-root") == 1


def test_print_shows_the_unit_and_how_to_install(tmp_path):
    result = service(tmp_path, f"--directory={tmp_path}", systemd=True)
    assert result.returncode == 0, result.stderr
    assert f"WorkingDirectory={tmp_path}" in result.stdout
    assert "jupyter colab service --install" in result.stdout
    assert not (tmp_path / "xdg" / "systemd").exists()  # printing writes nothing
    assert "tmux" not in result.stdout


def test_install_and_uninstall(tmp_path):
    unit = tmp_path / "xdg" / "systemd" / "user" / "colab-local.service"
    installed = service(tmp_path, "--install", f"--directory={tmp_path}", systemd=True)
    assert installed.returncode == 0, installed.stderr
    assert unit.read_text().startswith(MARKER)
    assert f"ExecStart={sys.executable} -m jupyter notebook --no-browser" in unit.read_text()
    assert "loginctl enable-linger" in installed.stdout
    assert "systemctl --user enable --now colab-local.service" in installed.stdout

    removed = service(tmp_path, "--uninstall", systemd=True)
    assert removed.returncode == 0
    assert not unit.exists()
    again = service(tmp_path, "--uninstall", systemd=True)
    assert again.returncode == 0
    assert "Nothing to remove" in again.stdout


def test_uninstall_leaves_a_unit_it_did_not_write(tmp_path):
    unit = tmp_path / "xdg" / "systemd" / "user" / "colab-local.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/bin/true\n")
    result = service(tmp_path, "--uninstall")
    assert result.returncode == 1
    assert "was not written by jupyter colab service" in result.stderr
    assert unit.exists()


def test_without_systemd_it_says_so_in_one_line(tmp_path):
    result = service(tmp_path, f"--directory={tmp_path}")
    hints = [line for line in result.stdout.splitlines() if "systemd is not running" in line]
    assert len(hints) == 1
    assert "tmux new -d -s colab" in hints[0]
    assert "nohup" in hints[0]


def test_missing_directory_is_a_clear_error(tmp_path):
    result = service(tmp_path, f"--directory={tmp_path / 'nope'}")
    assert result.returncode == 1
    assert "is not a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_of_ones_own_on_a_shared_server(tmp_path):
    result = service(tmp_path, f"--directory={tmp_path}", "--port=8890", systemd=True)
    assert result.returncode == 0, result.stderr
    exec_line = next(line for line in result.stdout.splitlines() if line.startswith("ExecStart="))
    assert exec_line.endswith(" --port=8890")
    assert f"--directory {tmp_path} --port 8890" in result.stdout
