"""``jupyter colab service``: a systemd user unit that outlives the SSH session.

CI has no systemd user session: these tests check the file, not a running service.
"""

from __future__ import annotations

import os
import shlex
import signal
import stat
import subprocess
import sys

import pytest

from colab_local.cli import service as service_app
from colab_local.cli.service_units import (
    MARKER,
    UnitValueError,
    exec_command,
    kernel_gateway_port,
    server_command,
    unit_text,
    without_systemd_hint,
)
from tests_support.server_process import (
    free_port,
    isolated_env,
    port_accepts,
    run_jupyter,
    wait_for,
)

pytestmark = pytest.mark.installed


def service(tmp_path, *args, systemd=False, kernel_gateway_installed=False):
    marker = tmp_path if systemd else tmp_path / "no-systemd-here"
    env = isolated_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    if kernel_gateway_installed:  # only looked for, never run, by `jupyter colab service`
        stub = tmp_path / "stub-site" / "kernel_gateway"
        stub.mkdir(parents=True, exist_ok=True)
        (stub / "__init__.py").write_text("")
        env["PYTHONPATH"] = str(stub.parent)
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


def test_without_systemd_it_says_so_in_one_line_with_a_command_that_works(tmp_path):
    result = service(tmp_path, f"--directory={tmp_path}")
    hints = [line for line in result.stdout.splitlines() if "systemd is not running" in line]
    assert len(hints) == 1
    # This environment's interpreter (not whichever jupyter is first on PATH), and as
    # root --allow-root, or the server would exit at once.
    command = f"{sys.executable} -m jupyter notebook --no-browser --allow-root"
    assert f"tmux new -d -s colab -c {tmp_path} '{command}'" in hints[0]
    assert f"cd {tmp_path} && nohup {command} > jupyter.log" in hints[0]


def test_the_hints_command_starts_a_server_with_no_venv_on_path(tmp_path):
    """The command the tmux/nohup hint runs, run detached with a bare PATH."""
    port = free_port()
    command = server_command(port=port)
    assert shlex.join(command) in without_systemd_hint(tmp_path, port=port)
    env = isolated_env(tmp_path)
    env["PATH"] = "/usr/bin:/bin"  # no venv on PATH: the command must not need it
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: port_accepts(port), 90, "the server the hint starts to listen")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


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


def test_kernels_in_a_unit_of_their_own_outlive_server_restarts(tmp_path):
    units = tmp_path / "xdg" / "systemd" / "user"
    installed = service(
        tmp_path,
        "--install",
        "--kernel-gateway",
        f"--directory={tmp_path}",
        systemd=True,
        kernel_gateway_installed=True,
    )
    assert installed.returncode == 0, installed.stderr
    server = (units / "colab-local.service").read_text()
    kernels = (units / "colab-local-kernels.service").read_text()
    env_file = tmp_path / "data" / "colab_local" / "kernel-gateway.env"
    assert f"--gateway-url=http://127.0.0.1:{kernel_gateway_port()}" in server
    assert "BindsTo=colab-local-kernels.service" in server
    assert f"EnvironmentFile={env_file}" in server
    assert f"ExecStart={sys.executable} -m jupyter kernelgateway" in kernels
    assert f"--KernelGatewayApp.port={kernel_gateway_port()}" in kernels
    assert "--KernelGatewayApp.port_retries=0" in kernels
    assert "--KernelGatewayApp.ip=127.0.0.1" in kernels
    assert f"EnvironmentFile={env_file}" in kernels
    # One private token, the same for both sides; never on a command line.
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert values["KG_AUTH_TOKEN"] == values["JUPYTER_GATEWAY_AUTH_TOKEN"]
    assert values["KG_AUTH_TOKEN"] not in server + kernels
    assert "enable --now colab-local-kernels.service colab-local.service" in installed.stdout
    # Installing again keeps the token; uninstalling removes both units.
    before = env_file.read_text()
    service(tmp_path, "--install", "--kernel-gateway", systemd=True, kernel_gateway_installed=True)
    assert env_file.read_text() == before
    removed = service(tmp_path, "--uninstall", systemd=True)
    assert removed.returncode == 0
    assert list(units.iterdir()) == []


def test_kernel_gateway_option_without_the_gateway_installed_says_what_to_install(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(service_app.importlib.util, "find_spec", lambda name: None)
    app = service_app.ColabServiceApp()
    app.initialize(["--kernel-gateway", f"--directory={tmp_path}"])
    with pytest.raises(SystemExit) as exited:
        app.start()
    assert exited.value.code == 1
    assert "pip install 'colab-local[gateway]'" in capsys.readouterr().err


def test_a_directory_name_with_a_newline_is_refused_and_writes_nothing(tmp_path):
    nasty = tmp_path / "shared-project\nExecStartPre=touch pwned"
    nasty.mkdir()
    result = service(tmp_path, "--install", f"--directory={nasty}", systemd=True)
    assert result.returncode == 1
    assert "control character" in result.stderr
    assert "shared-project\\nExecStartPre" in result.stderr  # named, as repr shows it
    assert not (tmp_path / "xdg" / "systemd" / "user" / "colab-local.service").exists()


@pytest.mark.parametrize(
    "name", ["home %h and %i", "dollar $HOME ${USER}", "quote \" ' and \\ back", "semi ; colon"]
)
def test_unit_values_are_escaped_as_systemd_reads_them(tmp_path, name):
    directory = tmp_path / name
    directory.mkdir()
    text = unit_text(directory, as_root=False, gateway_env_file=tmp_path / "%n.env")
    lines = text.splitlines()
    working = next(line for line in lines if line.startswith("WorkingDirectory="))
    assert working == f"WorkingDirectory={str(directory).replace('%', '%%')}"
    assert f"EnvironmentFile={tmp_path}/%%n.env" in lines
    execs = next(line for line in lines if line.startswith("ExecStart="))
    assert "$HOME" not in execs.replace("$$", "")  # no variable left for systemd to expand
    unit = tmp_path / "colab-local.service"
    unit.write_text(text)
    # systemd's own parser: quoting, specifiers and escapes must all be valid.
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    problems = [
        line
        for line in verified.stderr.splitlines()
        if "quoting" in line.lower() or "specifier" in line.lower() or "escape" in line.lower()
    ]
    assert problems == [], verified.stderr


def test_systemd_word_quoting_round_trips():
    assert exec_command(["/usr/bin/python3", "-m", "jupyter"]) == "/usr/bin/python3 -m jupyter"
    assert exec_command(["a b", 'q"', "s\\", "%h", "$X", ""]) == ('"a b" "q\\"" "s\\\\" %%h $$X ""')
    with pytest.raises(UnitValueError, match="control character"):
        exec_command(["bad\narg"])
