"""With Colab's port taken, a plain start stops with directions instead of moving."""

from __future__ import annotations

import re
import socket

import pytest

from tests_support.machine_lock import machine_wide
from tests_support.server_process import JupyterProcess

pytestmark = pytest.mark.installed


@pytest.fixture
def port_8888_taken():
    with machine_wide("port-8888"), socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 8888))
        holder.listen()
        yield


@pytest.mark.usefixtures("port_8888_taken")
def test_busy_8888_exits_nonzero_with_directions(tmp_path):
    process = JupyterProcess(tmp_path, ["--no-browser", "--allow-root"]).start()
    try:
        returncode = process.wait_exit(timeout=60)
    finally:
        process.stop()
    log = process.log
    assert returncode != 0
    assert "port 8888 is already in use" in log
    assert "jupyter server list" in log
    assert "jupyter server stop 8888" in log
    assert "is running at" not in log
    # The second user of a shared server gets a free port and the matching tunnel.
    free = int(re.search(r"jupyter notebook --port=(\d+)", log).group(1))
    assert free != 8888
    assert f"ssh -N -L 8888:localhost:{free} " in log
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", free))  # it really is free
