"""The ``/colab/connect`` page: self-contained HTML, readable without JavaScript.

Inline style and script only (Jupyter's default Content-Security-Policy restricts framing,
not inline code); no external asset. Only the Copy button needs JavaScript.
"""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.status { font-weight: 600; padding: .5rem .75rem; border-radius: .375rem; }
.healthy { background: #dafbe1; } .unhealthy { background: #ffebe9; }
.url { display: flex; gap: .5rem; margin: .5rem 0 1rem; }
.url input { flex: 1; font: 14px ui-monospace, monospace; padding: .4rem; }
.url button { padding: .4rem 1rem; font-size: 1rem; cursor: pointer; }
code { font: 14px ui-monospace, monospace; background: #f6f8fa; padding: .1rem .3rem; }
ol li { margin: .4rem 0; }
table { border-collapse: collapse; width: 100%; }
td { border-top: 1px solid #d0d7de; padding: .5rem; vertical-align: top; }
td.mark { width: 2rem; font-size: 1.2rem; }
.fix { color: #9a3412; } .info { color: #57606a; }
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


def render_connect_page(report: dict[str, Any]) -> str:
    url = escape(report["url"], quote=True)
    healthy = report["healthy"]
    status = (
        '<p class="status healthy">Ready: Colab can connect.</p>'
        if healthy
        else '<p class="status unhealthy">Not ready: fix the checks marked ✗ below.</p>'
    )
    rows = "\n".join(_check_row(c) for c in report["checks"])
    versions = report["versions"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect Colab to this server</title><style>{_STYLE}</style></head>
<body>
<h1>Connect Google Colab to this server</h1>
{status}
<label for="colab-url">URL to paste into Colab</label>
<div class="url"><input id="colab-url" readonly value="{url}">
<button id="copy" type="button">Copy</button></div>
<p id="copy-status" role="status"></p>
<ol>
<li>On your laptop, run: <code>{escape(report["tunnel_command"])}</code></li>
<li>In Colab: <strong>Connect ▸ Connect to a local runtime</strong>.</li>
<li>Paste the URL above and press <strong>Connect</strong>.</li>
</ol>
<h2>Checks</h2>
<table>{rows}</table>
<footer>colab-local {escape(versions["colab_local"])} · jupyter_server
{escape(versions["jupyter_server"])} · HTTP-over-WebSocket protocol
{escape(versions["http_over_ws_protocol"])}</footer>
<script>{_SCRIPT}</script>
</body></html>
"""
