"""Colab through the topology users have: the server on a machine of its own (a network
namespace), reached only through an SSH-style tunnel whose laptop port need not be the
server's, with other processes listening on the server's loopback.

The server cannot reach the laptop's ports here, so nothing works by accident: a server
that connected to the port named in the Host header or the auth URL would fail (or hit a
bystander), as it did for users.
"""

from __future__ import annotations

import json
from urllib.parse import quote
from urllib.request import Request, urlopen

import pytest

from tests_support import colab_client as colab
from tests_support.server_process import JupyterProcess, started
from tests_support.topology import Bystander, server_machine, ssh_tunnel

pytestmark = pytest.mark.installed

METADATA_ADDRESS = "169.254.169.254"


def serve(machine, home, port, *flags):
    args = ["--no-browser", "--allow-root", f"--port={port}", *flags]
    return started(JupyterProcess(home, args, prefix=machine.prefix))


@pytest.mark.parametrize(
    ("laptop_port", "server_port"),
    [(9999, 8888), (8888, 8890)],
    ids=["laptop-9999-to-server-8888", "laptop-8888-to-server-8890"],
)
async def test_any_tunnel_mapping_carries_both_colab_flows(tmp_path, laptop_port, server_port):
    with server_machine(tmp_path) as machine:
        # Another user's web server on the server, on the laptop's port number: where the
        # old handshake sent the token.
        bystander = Bystander(machine, f"127.0.0.1:{laptop_port}", f"[::1]:{laptop_port}")
        server = serve(machine, tmp_path / "home", server_port)
        try:
            ssh_tunnel(machine, laptop_port, server_port)
            root, token = f"http://localhost:{laptop_port}/", server.token
            legacy = await colab.legacy_flow(root, token, "legacy.ipynb", "print(6 * 7)")
            direct = await colab.direct_flow(root, token, "direct.ipynb", "print(2 ** 10)")
            page = await colab.direct_fetch(root, "colab/connect?format=json", token, origin=None)
        finally:
            server.stop()
        assert (legacy, direct) == ("42\n", "1024\n")
        assert bystander.contacts() == []

    report = json.loads(page.body)
    # Reached through the tunnel, the page names the browser's port, not the server's.
    assert report["url"] == f"http://localhost:{laptop_port}/?token={token}"
    assert report["tunnel_command"].startswith(f"ssh -N -L {laptop_port}:localhost:{server_port} ")
    port_check = next(c for c in report["checks"] if c["name"] == "port")
    assert port_check["ok"] is True, port_check
    assert report["healthy"] is True, report["checks"]
    # The banner cannot know the laptop's port: Colab's 8888, forwarded to this server.
    assert f"ssh -N -L 8888:localhost:{server_port} " in server.log
    assert f"http://localhost:8888/?token={token}" in server.log


def kernel_of_a_new_session(root, token):
    request = Request(
        f"{root}api/sessions",
        data=json.dumps(colab.session_body("s.ipynb")).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=60) as response:
        return json.load(response)["kernel"]["id"]


@pytest.fixture(scope="module")
def kernels(shared_server):
    """A running kernel on each server: what a client without the token must not reach."""
    return {name: kernel_of_a_new_session(*shared_server[name]) for name in ("local", "exposed")}


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """A server machine with bystanders on loopback and on a metadata-like address, one
    server on localhost:8888 (laptop 18888) and one on 0.0.0.0:8890 (laptop 18890)."""
    workdir = tmp_path_factory.mktemp("machine")
    with server_machine(workdir) as machine:
        machine.add_address(METADATA_ADDRESS)
        bystander = Bystander(
            machine, "127.0.0.1:9999", "[::1]:9999", "127.0.0.1:9998", f"{METADATA_ADDRESS}:80"
        )
        local = serve(machine, workdir / "local", 8888)
        exposed = serve(machine, workdir / "exposed", 8890, "--ip=0.0.0.0")
        try:
            ssh_tunnel(machine, 18888, 8888)
            ssh_tunnel(machine, 18890, 8890)
            yield {
                "bystander": bystander,
                "local": ("http://localhost:18888/", local.token),
                "exposed": ("http://localhost:18890/", exposed.token),
                "logs": (local, exposed),
            }
        finally:
            local.stop()
            exposed.stop()


SPOOFED = [
    ("local", "127.0.0.1:9999"),
    ("local", "localhost:9999"),
    ("local", "[::1]:9999"),
    ("exposed", METADATA_ADDRESS),
    ("exposed", f"{METADATA_ADDRESS}:80"),
]


@pytest.mark.parametrize(("server", "host"), SPOOFED, ids=[f"{s}-{h}" for s, h in SPOOFED])
async def test_without_the_token_a_spoofed_host_reaches_nothing(
    shared_server, kernels, server, host
):
    root, _ = shared_server[server]
    auth = f"http://{host}/?token=not-the-token"
    tunnel = await colab.open_tunnel(root, "", auth=auth, headers={"Host": host})
    try:
        answer = await tunnel.request("GET", "/api/sessions")
    finally:
        tunnel.close()
    assert answer.status == 403  # what plain Jupyter answers a request without the token
    for query in (f"jupyter_http_over_ws_auth_url={quote(auth)}", "session_id=s"):
        relayed = await colab.open_ws(
            f"{colab.ws_root(root)}http_over_websocket/proxied_ws/api/kernels/{kernels[server]}"
            f"/channels?{query}",
            Host=host,
        )
        assert await relayed.read_message() is None
        assert relayed.close_code == 403
    assert shared_server["bystander"].contacts() == []


@pytest.mark.parametrize(("server", "host"), SPOOFED, ids=[f"{s}-{h}" for s, h in SPOOFED])
async def test_with_the_token_a_spoofed_host_still_reaches_only_this_server(
    shared_server, server, host
):
    root, token = shared_server[server]
    auth = f"http://{host}/?token={token}"
    tunnel = await colab.open_tunnel(root, token, auth=auth, headers={"Host": host})
    try:
        answer = await tunnel.request("GET", "/api/status")
    finally:
        tunnel.close()
    assert answer.status == 200
    relayed = await colab.open_ws(
        f"{colab.ws_root(root)}http_over_websocket/proxied_ws/no/such/socket"
        f"?jupyter_http_over_ws_auth_url={quote(auth)}",
        Host=host,
    )
    assert await relayed.read_message() is None
    assert relayed.close_code == 404  # this server's answer, not the bystander's
    assert shared_server["bystander"].contacts() == []


AUTH_URLS_ELSEWHERE = [
    "http://127.0.0.1:9999/?token={token}",
    "http://localhost:9998/?token={token}",
    "http://localhost:18888@127.0.0.1:9999/?token={token}",
    "http://user@localhost:18888/?token={token}",
    "https://localhost:18888/?token={token}",
    f"http://{METADATA_ADDRESS}/?token={{token}}",
]


@pytest.mark.parametrize("auth", AUTH_URLS_ELSEWHERE)
async def test_auth_url_naming_another_place_is_refused_and_reaches_nothing(shared_server, auth):
    root, token = shared_server["local"]
    auth = auth.format(token=token)
    answer = await colab.tunnel_get(root, token, auth=auth)
    assert answer.status == 500
    assert "must be the URL this server was reached at (http://localhost:18888/" in (
        answer.status_text
    )
    relayed = await colab.open_ws(
        f"{colab.ws_root(root)}http_over_websocket/proxied_ws/api/kernels/x/channels"
        f"?jupyter_http_over_ws_auth_url={quote(auth)}"
    )
    assert await relayed.read_message() is None
    assert relayed.close_code == 500
    assert shared_server["bystander"].contacts() == []


def test_the_token_was_never_logged_outside_the_banner_url(shared_server):
    for server in shared_server["logs"]:
        leaked = [
            line
            for line in server.log.splitlines()
            if server.token in line and "?token=" not in line
        ]
        assert leaked == []
