"""Is Colab reaching me? The last requests that carried Colab's origin, kept in memory.

Every "Unable to connect" report needs one fact first: did the browser reach the server
at all? Chrome's Local Network Access blocks a public page's requests to localhost before
they leave the browser, and a dead tunnel looks the same from Colab's side. Each request
of Colab's page is noted (``diagnostics/contact_notes.py``): when, which flow (direct, tunnel,
relayed kernel socket), the method and path (never the query: it can carry the token),
the status, and why a refused one was refused (missing or wrong token, origin, XSRF). No
token or other secret is kept. The newest ``CONTACTS_KEPT`` are kept; ``/colab/connect``
and ``jupyter colab doctor`` (both need the token) say what they mean.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from colab_local.diagnostics.check import Check

CONTACTS_KEPT = 50
DIRECT, TUNNEL, RELAYED = "direct", "tunnel", "relayed kernel socket"
MISSING_TOKEN, WRONG_TOKEN, ORIGIN, XSRF = "missing token", "wrong token", "origin", "XSRF"


@dataclass(frozen=True)
class Contact:
    at: float
    flow: str
    method: str
    path: str
    status: int
    #: Why it was refused (MISSING_TOKEN, WRONG_TOKEN, ORIGIN, XSRF); None if it was not.
    refused: str | None = None

    def as_json(self, now: float) -> dict[str, Any]:
        return {**asdict(self), "seconds_ago": round(now - self.at, 1)}


class ContactLog:
    def __init__(self, kept: int = CONTACTS_KEPT) -> None:
        self._contacts: deque[Contact] = deque(maxlen=kept)

    def note(self, contact: Contact) -> None:
        self._contacts.append(contact)

    def recent(self) -> list[Contact]:
        """Newest first."""
        return list(reversed(self._contacts))

    def check(self, colab_url: str) -> Check:
        """What the contacts say, for the connect page and the doctor."""
        recent = self.recent()
        if not recent:
            return Check(
                "colab's page",
                True,
                "no request from Colab's page since the server started: your browser "
                "blocked it (Local Network Access: allow Colab to reach your local "
                "network when Chrome asks) or the tunnel is not running",
                informational=True,
            )
        last = recent[0]
        ago = _ago(time.time() - last.at)
        if last.refused is None:
            return Check(
                "colab's page",
                True,
                f"Colab's page reached this server {ago} ({last.flow} flow, {last.status})",
                informational=True,
            )
        return Check(
            "colab's page",
            False,
            f"Colab's requests are refused: {last.refused} ({last.flow} flow, {last.status}, "
            f"{ago})",
            _FIXES[last.refused].format(url=colab_url),
        )


_FIXES = {
    MISSING_TOKEN: "the URL pasted into Colab has no token: paste {url}",
    WRONG_TOKEN: "the URL pasted into Colab is not this server's: paste {url}",
    ORIGIN: "Colab's origin is not allowed: leave ServerApp.allow_origin unset (colab-local "
    "sets https://colab.research.google.com)",
    XSRF: "Jupyter's XSRF check refused it: reconnect Colab with the URL (token) {url}",
}


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{max(0, round(seconds))} s ago"
    if seconds < 5400:
        return f"{round(seconds / 60)} min ago"
    return f"{round(seconds / 3600)} h ago"
