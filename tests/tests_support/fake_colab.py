"""A stand-in for Colab's page, served as https://colab.research.google.com to a browser.

Colab's frontend is closed source; this page speaks the same two flows to a local
runtime, in the browser, the way the notes describe them: the direct flow (REST with
``?token=`` and credentials, then the kernel WebSocket) and the HTTP-over-WebSocket
tunnel (JSON requests on ``/http_over_websocket``, the kernel channel relayed through
``proxied_ws``). ``COLAB.direct(root, token, notebook, code)`` and ``COLAB.tunnel(...)``
run a session end to end and resolve to the code's output.

Chromium reaches it as Colab's real origin with ``--host-resolver-rules`` (the name maps
to this server's loopback port) and ``--ignore-certificate-errors`` (a self-signed
certificate); ``--ip-address-space-overrides=127.0.0.1:<port>=public`` makes it a public
site, as colab.research.google.com is, so Chrome's Local Network Access applies.
"""

from __future__ import annotations

import contextlib
import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

HOST = "colab.research.google.com"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Colab (test stand-in)</title></head>
<body><h1>Colab, as far as the browser can tell</h1>
<script>
"use strict";

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("WebSocket error: " + url.split("?")[0]));
  });
}

function runCode(url, code) {
  return open(url).then((ws) => new Promise((resolve, reject) => {
    const info = "info-" + Math.random(), exec = "exec-" + Math.random();
    let out = "";
    const send = (msg_id, msg_type, content) => ws.send(JSON.stringify({
      header: {msg_id, msg_type, username: "colab", session: "browser", version: "5.3"},
      parent_header: {}, metadata: {}, content, channel: "shell", buffers: [],
    }));
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      const m = JSON.parse(event.data), parent = (m.parent_header || {}).msg_id;
      if (parent === info && m.msg_type === "kernel_info_reply") {
        send(exec, "execute_request", {code, silent: false, store_history: false});
      } else if (parent === exec && m.msg_type === "stream") {
        out += m.content.text;
      } else if (parent === exec && m.msg_type === "error") {
        reject(new Error(m.content.evalue));
      } else if (parent === exec && m.msg_type === "status"
                 && m.content.execution_state === "idle") {
        ws.close();
        resolve(out);
      }
    };
    ws.onclose = (event) => reject(new Error("kernel channel closed: " + event.code));
    send(info, "kernel_info_request", {});
  }));
}

function sessionBody(notebook) {
  return {path: notebook, name: notebook, type: "notebook", kernel: {name: "python3"}};
}

function expect(status, expected, what) {
  if (status !== expected) throw new Error(what + " answered " + status);
}

const COLAB = {
  async direct(root, token, notebook, code) {
    const url = (path) => root + path + (path.includes("?") ? "&" : "?") +
                          "token=" + encodeURIComponent(token);
    const specs = await fetch(url("api/kernelspecs"), {credentials: "include"});
    expect(specs.status, 200, "kernelspecs");
    const created = await fetch(url("api/sessions"), {
      method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(sessionBody(notebook)),
    });
    expect(created.status, 201, "new session");
    const session = await created.json();
    const out = await runCode(root.replace(/^http/, "ws") + "api/kernels/" +
      session.kernel.id + "/channels?session_id=direct&token=" + encodeURIComponent(token), code);
    const deleted = await fetch(url("api/sessions/" + session.id),
                                {method: "DELETE", credentials: "include"});
    expect(deleted.status, 204, "delete session");
    return out;
  },

  async tunnel(root, token, notebook, code) {
    const auth = encodeURIComponent(root + "?token=" + token);
    const wsRoot = root.replace(/^http/, "ws");
    const ws = await open(wsRoot + "http_over_websocket?min_version=0.0.7" +
                          "&jupyter_http_over_ws_auth_url=" + auth);
    const pending = new Map();
    let next = 1;
    ws.onmessage = (event) => {
      const m = JSON.parse(event.data), p = pending.get(m.message_id);
      if (!p) return;
      if (m.status !== undefined) p.status = m.status;
      if (m.data) p.chunks.push(atob(m.data));
      if (m.done) {
        pending.delete(m.message_id);
        p.resolve({status: p.status, body: p.chunks.join("")});
      }
    };
    const request = (method, path, body) => new Promise((resolve) => {
      const message_id = next++;
      pending.set(message_id, {resolve, chunks: [], status: 0});
      const message = {message_id, method, path};
      if (body !== undefined) message.body = JSON.stringify(body);
      ws.send(JSON.stringify(message));
    });
    expect((await request("GET", "/api/kernelspecs")).status, 200, "kernelspecs");
    const created = await request("POST", "/api/sessions", sessionBody(notebook));
    expect(created.status, 201, "new session");
    const session = JSON.parse(created.body);
    const out = await runCode(wsRoot + "http_over_websocket/proxied_ws/api/kernels/" +
      session.kernel.id + "/channels?session_id=tunnel&jupyter_http_over_ws_auth_url=" + auth,
      code);
    expect((await request("DELETE", "/api/sessions/" + session.id)).status, 204, "delete");
    ws.close();
    return out;
  },
};
window.COLAB = COLAB;
</script></body></html>
"""


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def fake_colab(workdir: Path) -> Iterator[int]:
    """Serve the page over HTTPS on a loopback port (yielded) with a certificate for HOST."""
    key, cert = workdir / "colab-key.pem", workdir / "colab-cert.pem"
    self_signed = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    names = ["-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}"]
    subprocess.run(
        ["openssl", *self_signed, *names, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def public_colab_flags(page_port: int) -> list[str]:
    """Chromium flags: the page is https://colab.research.google.com, a public site."""
    return [
        f"--host-resolver-rules=MAP {HOST} 127.0.0.1:{page_port}",
        "--ignore-certificate-errors",
        f"--ip-address-space-overrides=127.0.0.1:{page_port}=public",
    ]
