"""Who holds a loopback gateway's port, read from the kernel's socket table."""

from __future__ import annotations

import os
import socket

import pytest

from colab_local.workarounds import gateway_owner
from colab_local.workarounds.gateway_owner import listeners, loopback_port, owner_problem

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
ROW = "   0: {} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 {} 0 1\n"


def table(tmp_path, *rows):
    path = tmp_path / "tcp"
    path.write_text(
        HEADER
        + "".join(
            f"   0: {row} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 {uid} 0 1\n"
            for row, uid in rows
        )
    )
    return (str(path),)


def test_addresses_are_read_as_the_kernel_writes_them(tmp_path):
    tcp = table(tmp_path, ("0100007F:4E20", 65534), ("00000000:4E21", 0), ("0A000001:4E20", 7))
    assert [(str(a), uid) for a, uid in listeners(20000, tcp)] == [("127.0.0.1", 65534)]
    assert [(str(a), uid) for a, uid in listeners(20001, tcp)] == [("0.0.0.0", 0)]  # noqa: S104
    v6 = table(tmp_path, ("00000000000000000000000001000000:4E20", 3))
    assert [(str(a), uid) for a, uid in listeners(20000, v6)] == [("::1", 3)]


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("http://127.0.0.1:9888", 9888),
        ("http://localhost:20000/", 20000),
        ("http://[::1]:8888", 8888),
        ("http://127.0.0.1", 80),
        ("http://gateway.cluster.local:8888", None),
        ("http://10.0.0.5:8888", None),
        ("http://127.0.0.1:notaport", None),
    ],
)
def test_which_urls_are_this_machines_loopback(url, port):
    assert loopback_port(url) == port


def test_another_users_listener_is_a_problem_and_ones_own_is_not(tmp_path, monkeypatch):
    monkeypatch.setattr(gateway_owner, "SOCKET_TABLES", table(tmp_path, ("0100007F:4E20", 65534)))
    problem = owner_problem("http://127.0.0.1:20000", uid=0)
    assert problem is not None
    assert "held by another user (uid 65534)" in problem
    assert "ColabLocal.check_gateway_owner=False" in problem
    assert owner_problem("http://127.0.0.1:20000", uid=65534) is None
    assert owner_problem("http://127.0.0.1:20001", uid=0) is None  # nobody listens


def test_the_real_socket_table_names_our_own_listener():
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert {uid for _, uid in listeners(port)} == {os.getuid()}
        assert owner_problem(f"http://127.0.0.1:{port}") is None
