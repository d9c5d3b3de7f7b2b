"""A real ``jupyter notebook`` (or ``server``/``lab``) process from the installed package."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

JUPYTER = str(Path(sys.executable).with_name("jupyter"))
READY_TIMEOUT = 90
_STRIPPED_ENV = (
    "JUPYTER_TOKEN",
    "JUPYTER_TOKEN_FILE",
    "JUPYTER_PORT",
    "JUPYTER_PORT_RETRIES",
    "JUPYTER_CONFIG_PATH",
)


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment whose Jupyter user dirs live under ``home``; system config stays."""
    env = {k: v for k, v in os.environ.items() if k not in _STRIPPED_ENV}
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        JUPYTER_PLATFORM_DIRS="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(condition: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``condition`` until true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class JupyterProcess:
    """One server process; its output goes to a log file the tests read."""

    def __init__(
        self,
        home: Path,
        args: list[str],
        *,
        command: str = "notebook",
        env: dict[str, str] | None = None,
        prefix: list[str] | None = None,
    ):
        self.home = home
        self.root = home / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_path = home / f"{command}-{time.monotonic_ns()}.log"
        # A prefix (e.g. ``ip netns exec <name>``) runs the server on another "machine",
        # whose ports this process cannot reach: readiness then rests on the banner,
        # which the server prints once it listens.
        self.prefix = prefix or []
        self.argv = [*self.prefix, JUPYTER, command, *args]
        self.env = env or isolated_env(home)
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def start(self) -> JupyterProcess:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_mark(self) -> int:
        """Where the log ends now: ``log_after(mark)`` is what the server logged since, so
        a test checks its own lines whatever ran before it."""
        return self.log_path.stat().st_size

    def log_after(self, mark: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")

    def runtime_info(self) -> dict[str, Any]:
        assert self.proc is not None
        path = Path(self.env["JUPYTER_RUNTIME_DIR"]) / f"jpserver-{self.proc.pid}.json"
        return dict(json.loads(path.read_text()))

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log}")
        if "colab-local: connect Google Colab" not in self.log:
            return False
        return bool(self.prefix) or port_accepts(int(self.runtime_info()["port"]))

    def wait_ready(self) -> JupyterProcess:
        wait_for(self._ready, READY_TIMEOUT, f"{' '.join(self.argv)} to listen")
        self.info = self.runtime_info()
        return self

    @property
    def port(self) -> int:
        return int(self.info["port"])

    @property
    def token(self) -> str:
        return str(self.info["token"])

    @property
    def http_root(self) -> str:
        scheme = "https" if self.info.get("secure") else "http"
        return f"{scheme}://localhost:{self.info['port']}{self.info['base_url']}"

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """Stop the server and its kernels; kill what does not stop in time."""
        if self.proc is not None:
            stop_process_group(self.proc, grace=30)


def stop_process_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM a process started in a session of its own, SIGKILL it after ``grace``
    seconds, then anything left in its group (a server's kernels): nothing outlives a test.
    A process that already exited is left alone (its group id may be another's by now)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def started(process: JupyterProcess) -> JupyterProcess:
    """``process`` started and ready to serve; stopped again if it never gets there."""
    process.start()
    try:
        return process.wait_ready()
    except BaseException:
        process.stop()
        raise


@contextlib.contextmanager
def running_server(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[JupyterProcess]:
    """``jupyter notebook --no-browser --allow-root --port=<free> *args``, ready; stopped after.
    ``env``: the server's environment (default: ``isolated_env(home)``)."""
    argv = ["--no-browser", "--allow-root", f"--port={free_port()}", *args]
    process = JupyterProcess(home, argv, env=env)
    process.start()
    try:
        yield process.wait_ready()
    finally:
        process.stop()


#: The flag that makes a server plain jupyter_server, for side-by-side measurements.
WITHOUT_COLAB_LOCAL = "--ServerApp.jpserver_extensions={'colab_local': False}"


@contextlib.contextmanager
def running_plain_server(home: Path) -> Iterator[JupyterProcess]:
    """The same ``jupyter notebook`` with colab-local disabled, ready; stopped after."""
    args = ["--no-browser", "--allow-root", f"--port={free_port()}", WITHOUT_COLAB_LOCAL]
    process = JupyterProcess(home, args)
    process.start()
    try:
        wait_for(lambda: "is running at" in process.log, READY_TIMEOUT, "plain Jupyter to start")
        process.info = process.runtime_info()
        yield process
    finally:
        process.stop()


def run_jupyter(
    home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JUPYTER, *args],
        check=False,
        env=env or isolated_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def unexpected_tracebacks(log: str) -> list[str]:
    """The tracebacks in a server log, but for jupyter_server's own way of logging a 4xx
    API error (versions before 2.17 log ``wrote error: ...`` with its HTTPError's
    traceback, for any client, colab-local or not)."""
    found = []
    lines = log.splitlines()
    for number, line in enumerate(lines):
        if "Traceback (most recent call last)" not in line:
            continue
        block = "\n".join(lines[number : number + 12])
        after_api_error = number > 0 and "wrote error:" in lines[number - 1]
        if not (after_api_error and "tornado.web.HTTPError: HTTP 4" in block):
            found.append("\n".join(lines[max(0, number - 2) : number + 12]))
    return found


def log_problems(log: str, token: str) -> list[str]:
    """What a span of a server's log must not hold: unexpected tracebacks, failures nobody
    retrieved, the token anywhere but the banner's URLs (``?token=``)."""
    problems = unexpected_tracebacks(log)
    for marker in ("never retrieved", "Uncaught exception", "Task exception"):
        problems += [line for line in log.splitlines() if marker in line]
    problems += [
        line for line in log.splitlines() if token in line and f"?token={token}" not in line
    ]
    return problems


@contextlib.contextmanager
def checked_log_span(process: JupyterProcess) -> Iterator[None]:
    """Around one test: what the server logged meanwhile has no :func:`log_problems`, so
    each test of a module sharing a server checks its own lines, in any order."""
    mark = process.log_mark()
    yield
    assert log_problems(process.log_after(mark), process.token) == []
