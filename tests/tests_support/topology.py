"""The topology users have, on one machine: a server with a network of its own, reached
only through an SSH-style tunnel whose laptop port need not be the server's.

A network namespace is the "server machine": its own loopback, so the test process (the
"laptop") cannot reach the server's ports, and the server cannot reach the laptop's. A
forwarder pair through a unix socket (which crosses namespaces) is ``ssh -N -L``. Needs
root and iproute2, as CI has.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests_support.server_process import stop_process_group, wait_for

TESTS_DIR = str(Path(__file__).resolve().parents[1])
START_TIMEOUT = 30


#: Another user cannot enter /root, where pyenv's interpreters (and maybe this checkout)
#: live: their helpers run on the system's Python, from a copy of the helper module.
OTHER_USER_PYTHON = os.environ.get("COLAB_LOCAL_TEST_OTHER_USER_PYTHON", "/usr/bin/python3")


def as_user(uid: int) -> list[str]:
    """A command prefix that runs the command as ``uid`` (its group too, no others)."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class Helper:
    """A small ``tests_support`` program, started and stopped with its output in a file."""

    def __init__(self, log: Path, argv: list[str]) -> None:
        self.log = log
        env = {**os.environ, "PYTHONPATH": TESTS_DIR, "PYTHONUNBUFFERED": "1"}
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        wait_for(self._ready, START_TIMEOUT, f"{' '.join(argv)} to be ready")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"exited with {self.proc.returncode}: {self.log.read_text()}")
        return "ready" in self.log.read_text()

    def stop(self) -> None:
        stop_process_group(self.proc, grace=10)


class ServerMachine:
    """A network namespace with only its loopback up (plus addresses added on purpose)."""

    def __init__(self, workdir: Path) -> None:
        self.name = f"colab-{uuid.uuid4().hex[:8]}"
        self.workdir = workdir
        self._helpers: list[Helper] = []
        _ip("netns", "add", self.name)
        try:
            self.run("ip", "link", "set", "lo", "up")
        except BaseException:
            _ip("netns", "delete", self.name)
            raise

    @property
    def prefix(self) -> list[str]:
        """Prepended to a command, runs it on this machine."""
        return ["ip", "netns", "exec", self.name]

    def run(self, *argv: str) -> None:
        subprocess.run([*self.prefix, *argv], check=True, capture_output=True, timeout=30)

    def add_address(self, address: str) -> None:
        """Give the machine a non-loopback address (e.g. a metadata service's)."""
        self.run("ip", "link", "add", "eth-test", "type", "veth", "peer", "name", "eth-peer")
        self.run("ip", "addr", "add", f"{address}/32", "dev", "eth-test")
        self.run("ip", "link", "set", "eth-test", "up")
        self.run("ip", "link", "set", "eth-peer", "up")

    def helper(self, *args: str, here: bool = False, uid: int | None = None) -> Helper:
        """Start ``python -m tests_support.<args>`` on this machine (``here``: the laptop),
        as another user when ``uid`` is given (its files must be reachable by that user)."""
        argv = [sys.executable, "-m", *args]
        if uid is not None:  # a standard-library-only helper, copied where that user can read
            module, *rest = args
            source = Path(TESTS_DIR, *module.split(".")).with_suffix(".py")
            copy = self.workdir / source.name
            copy.write_bytes(source.read_bytes())
            copy.chmod(0o644)
            argv = [*as_user(uid), OTHER_USER_PYTHON, str(copy), *rest]
        log = self.workdir / f"{args[0].rsplit('.', 1)[-1]}-{uuid.uuid4().hex[:6]}.log"
        helper = Helper(log, argv if here else [*self.prefix, *argv])
        self._helpers.append(helper)
        return helper

    def close(self) -> None:
        for helper in reversed(self._helpers):
            helper.stop()
        _ip("netns", "delete", self.name)


@contextlib.contextmanager
def server_machine(workdir: Path) -> Iterator[ServerMachine]:
    machine = ServerMachine(workdir)
    try:
        yield machine
    finally:
        machine.close()


def ssh_tunnel(machine: ServerMachine, laptop_port: int, server_port: int) -> None:
    """Forward the laptop's ``laptop_port`` to ``localhost:server_port`` on ``machine``:
    what ``ssh -N -L <laptop_port>:localhost:<server_port>`` does. Stops with the machine."""
    sock = machine.workdir / f"tunnel-{uuid.uuid4().hex[:6]}.sock"
    machine.helper("tests_support.forwarder", f"unix:{sock}", f"tcp:127.0.0.1:{server_port}")
    machine.helper(
        "tests_support.forwarder", f"tcp:127.0.0.1:{laptop_port}", f"unix:{sock}", here=True
    )


class Bystander:
    """Listeners on the server machine that must never be contacted (tests_support.bystander),
    run as ``uid`` when given (another user of the machine)."""

    def __init__(self, machine: ServerMachine, *addresses: str, uid: int | None = None) -> None:
        self.record = machine.workdir / f"bystander-{uuid.uuid4().hex[:6]}.jsonl"
        self.record.touch()
        if uid is not None:
            self.record.chmod(0o666)
        machine.helper("tests_support.bystander", str(self.record), *addresses, uid=uid)

    def contacts(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.record.read_text().splitlines()]
