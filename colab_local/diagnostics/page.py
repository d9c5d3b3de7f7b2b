"""The ``/colab/connect`` page: self-contained HTML, readable without JavaScript.

Inline style and script only (Jupyter's default Content-Security-Policy restricts framing,
not inline code); no external asset. JavaScript runs the Copy button and the on-demand
kernel probe, nothing else.
"""

from __future__ import annotations

from html import escape
from typing import Any

from colab_local.diagnostics.server_checks import BROWSERS

_STYLE = """
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; color: #1f2328; overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
.status { font-weight: 600; padding: .5rem .75rem; border-radius: .375rem; }
.healthy { background: #dafbe1; } .unhealthy { background: #ffebe9; }
.url { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0 1rem; align-items: start; }
/* The whole URL, wrapped on narrow screens; lines tall enough that underscores in the
   token are never clipped. */
.url textarea { flex: 1 1 18rem; min-width: 0; font: 15px/1.8 ui-monospace, monospace;
                padding: .3rem .5rem; resize: none; field-sizing: content;
                word-break: break-all; overflow: hidden; }
button { padding: .45rem 1rem; font-size: 1rem; cursor: pointer; }
code { font: 14px ui-monospace, monospace; background: #f6f8fa; padding: .1rem .3rem; }
ol li, ul li { margin: .4rem 0; }
table { border-collapse: collapse; width: 100%; }
td { border-top: 1px solid #d0d7de; padding: .5rem; vertical-align: top; }
td.mark { width: 2rem; font-size: 1.2rem; }
.fix { color: #9a3412; } .info { color: #57606a; }
ul.contacts { padding-left: 1.2rem; font-size: .9rem; }
ul.contacts li { margin: .25rem 0; } .when { white-space: nowrap; color: #57606a; }
#probe-result:empty { display: none; }
#probe-result { margin-top: 1rem; }
footer { margin-top: 2rem; color: #57606a; font-size: .875rem; }
"""

_SCRIPT = """
document.getElementById("copy").addEventListener("click", async () => {
  const field = document.getElementById("colab-url");
  const status = document.getElementById("copy-status");
  try {
    await navigator.clipboard.writeText(field.value);
  } catch (e) {
    field.select();
    document.execCommand("copy");
  }
  status.textContent = "Copied.";
});

const probe = document.getElementById("probe");
probe.addEventListener("click", async () => {
  const out = document.getElementById("probe-result");
  probe.disabled = true;
  out.textContent = "Starting a kernel and asking it (this can take a minute)...";
  try {
    const response = await fetch(probe.dataset.url, {
      method: "POST",
      headers: {"X-XSRFToken": probe.dataset.xsrf},
      credentials: "same-origin",
    });
    const report = await response.json();
    out.replaceChildren(renderProbe(report, response.status));
  } catch (e) {
    out.textContent = "The probe failed: " + e;
  } finally {
    probe.disabled = false;
  }
});

function row(table, name, value) {
  const tr = table.insertRow();
  tr.insertCell().textContent = name;
  tr.insertCell().textContent = value;
}

function renderProbe(report, status) {
  const table = document.createElement("table");
  if (status !== 200 || !report.ok) {
    row(table, "result", report.error || report.message || ("HTTP " + status));
    return table;
  }
  row(table, "kernel", report.kernel + ", " + report.where);
  row(table, "Python", report.python.version + " (" + report.python.executable + ")");
  const gpus = Array.isArray(report.nvidia_smi) ? report.nvidia_smi.join("; ") || "none"
                                                : report.nvidia_smi;
  row(table, "nvidia-smi -L", gpus);
  row(table, "CUDA_VISIBLE_DEVICES", report.cuda_visible_devices ?? "(not set)");
  for (const [name, f] of Object.entries(report.frameworks)) {
    row(table, name, !f.installed ? "not installed"
      : f.error ? "fails to import: " + f.error
      : f.version + ", GPUs seen: " + f.gpus);
  }
  row(table, "took", report.seconds + " s");
  return table;
}
"""


def _check_row(check: dict[str, Any]) -> str:
    mark = "i" if check["informational"] else ("✓" if check["ok"] else "✗")
    fix = ""
    if not check["ok"] and check["fix"]:
        fix = f'<div class="fix">Fix: {escape(check["fix"])}</div>'
    css = "info" if check["informational"] else ""
    return (
        f'<tr><td class="mark">{mark}</td><td><strong>{escape(check["name"])}</strong>'
        f'<div class="{css}">{escape(check["detail"])}</div>{fix}</td></tr>'
    )


#: Colab's requests shown on the page, newest first (the JSON has all that are kept).
CONTACTS_SHOWN = 8


def _contact_rows(contacts: list[dict[str, Any]]) -> str:
    if not contacts:
        return '<p class="info">None since the server started.</p>'
    items = []
    for contact in contacts[:CONTACTS_SHOWN]:
        refused = contact["refused"]
        outcome = f' <span class="fix">refused: {escape(refused)}</span>' if refused else ""
        items.append(
            f'<li><span class="when">{escape(contact["ago"])}</span> · '
            f"{escape(contact['flow'])} · <code>{escape(contact['method'])} "
            f"{escape(contact['path'])}</code> → {contact['status']}{outcome}</li>"
        )
    return f'<ul class="contacts">{"".join(items)}</ul>'


def render_connect_page(report: dict[str, Any], probe_url: str, xsrf: str) -> str:
    url = escape(report["url"], quote=True)
    healthy = report["healthy"]
    status = (
        '<p class="status healthy">Ready: Colab can connect.</p>'
        if healthy
        else '<p class="status unhealthy">Not ready: fix the checks marked ✗ below.</p>'
    )
    # The browser's check is the "Your browser will ask" section here.
    rows = "\n".join(_check_row(c) for c in report["checks"] if c["name"] != "browser")
    browsers = "\n".join(
        f"<li><strong>{escape(name)}</strong> {escape(what)}</li>" for name, what in BROWSERS
    )
    versions = report["versions"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect Colab to this server</title><style>{_STYLE}</style></head>
<body>
<h1>Connect Google Colab to this server</h1>
{status}
<label for="colab-url">URL to paste into Colab</label>
<div class="url"><textarea id="colab-url" rows="1" readonly spellcheck="false">{url}</textarea>
<button id="copy" type="button">Copy</button></div>
<p id="copy-status" role="status"></p>
<ol>
<li>On your laptop, run: <code>{escape(report["tunnel_command"])}</code></li>
<li>In Colab: <strong>Connect ▸ Connect to a local runtime</strong>.</li>
<li>Paste the URL above and press <strong>Connect</strong>.</li>
</ol>
<h2>Your browser will ask</h2>
<ul>{browsers}</ul>
<h2>Checks</h2>
<table>{rows}</table>
<h2>Colab's requests</h2>
{_contact_rows(report["colab_contacts"])}
<h2>What the notebook will see</h2>
<p>Kernels run {escape(report["kernels"])}. To see what a notebook's kernel will really
see (its Python, GPUs, and whether torch, TensorFlow and JAX find them), start one and
ask it:</p>
<button id="probe" type="button" data-url="{escape(probe_url, quote=True)}"
 data-xsrf="{escape(xsrf, quote=True)}">Check what the notebook will see</button>
<div id="probe-result" role="status"></div>
<footer>colab-local {escape(versions["colab_local"])} · jupyter_server
{escape(versions["jupyter_server"])} · HTTP-over-WebSocket protocol
{escape(versions["http_over_ws_protocol"])}</footer>
<script>{_SCRIPT}</script>
</body></html>
"""
