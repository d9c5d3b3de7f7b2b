"""Is Colab reaching me? The last requests that carried Colab's origin, kept in memory.

Every "Unable to connect" report needs one fact first: did the browser reach the server
at all? Chrome's Local Network Access blocks a public page's requests to localhost before
they leave the browser, and a dead tunnel looks the same from Colab's side. Each request
of Colab's page is noted (``diagnostics/contact_notes.py``): when, which flow (direct, tunnel,
relayed kernel socket), the method and path (never the query: it can carry the token),
the status, and why a refused one was refused (missing or wrong token, origin, XSRF). No
token or other secret is kept. The newest ``CONTACTS_KEPT`` requests that proved the token
are kept, and apart from them the newest ``UNPROVEN_KEPT`` that did not (an Origin header
is no proof: any local program can send it); only the proven ones can make the check fail.
``/colab/connect`` and ``jupyter colab doctor`` (both need the token) say what they mean.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass, replace
from typing import Any

from colab_local.diagnostics.check import Check

#: Requests that proved the token (or the login cookie): the ones that decide health.
CONTACTS_KEPT = 50
#: Requests without it, kept apart: anyone who can reach the port can send those, with any
#: Origin, so they can neither displace the proven ones nor make the server unhealthy.
UNPROVEN_KEPT = 10
#: Characters of a path (and of a method) kept: a client's long path costs nothing here.
PATH_KEPT = 200
METHOD_KEPT = 16
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
    #: Whether it carried this server's token or login cookie (an Origin alone proves
    #: nothing: any local program can send Colab's).
    proven: bool = True

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            **asdict(self),
            "seconds_ago": round(now - self.at, 1),
            "ago": ago(now - self.at),
        }


class ContactLog:
    def __init__(self, kept: int = CONTACTS_KEPT, unproven_kept: int = UNPROVEN_KEPT) -> None:
        self._proven: deque[Contact] = deque(maxlen=kept)
        self._unproven: deque[Contact] = deque(maxlen=unproven_kept)

    def note(self, contact: Contact) -> None:
        contact = replace(
            contact,
            method=contact.method[:METHOD_KEPT],
            path=contact.path[:PATH_KEPT],
        )
        (self._proven if contact.proven else self._unproven).append(contact)

    def recent(self) -> list[Contact]:
        """Newest first, proven and unproven together."""
        return sorted([*self._proven, *self._unproven], key=lambda c: c.at, reverse=True)

    def check(self, colab_url: str) -> Check:
        """What the contacts say, for the connect page and the doctor. Only a request that
        proved the token can make it fail (Colab was refused for its origin or XSRF)."""
        if self._proven:
            last = self._proven[-1]
            when = ago(time.time() - last.at)
            if last.refused is None:
                return Check(
                    "colab's page",
                    True,
                    f"Colab's page reached this server {when} ({last.flow} flow, {last.status})",
                    informational=True,
                )
            return Check(
                "colab's page",
                False,
                f"Colab's requests are refused: {last.refused} ({last.flow} flow, "
                f"{last.status}, {when})",
                _FIXES[last.refused].format(url=colab_url),
            )
        if self._unproven:
            last = self._unproven[-1]
            reason = last.refused or MISSING_TOKEN
            return Check(
                "colab's page",
                True,
                f"requests with Colab's origin arrived without this server's token "
                f"({reason}, {last.flow} flow, {last.status}, {ago(time.time() - last.at)}); "
                "none with it yet",
                "if they were Colab's: " + _FIXES[reason].format(url=colab_url),
                informational=True,
            )
        return Check(
            "colab's page",
            True,
            "no request from Colab's page since the server started: your browser "
            "blocked it (Local Network Access: allow Colab to reach your local "
            "network when Chrome asks) or the tunnel is not running",
            informational=True,
        )


_FIXES = {
    MISSING_TOKEN: "the URL pasted into Colab has no token: paste {url}",
    WRONG_TOKEN: "the URL pasted into Colab is not this server's: paste {url}",
    ORIGIN: "Colab's origin is not allowed: leave ServerApp.allow_origin unset (colab-local "
    "sets https://colab.research.google.com)",
    XSRF: "Jupyter's XSRF check refused it: reconnect Colab with the URL (token) {url}",
}


def ago(seconds: float) -> str:
    """The one way colab-local says how long ago: the page, its JSON and the doctor."""
    if seconds < 90:
        return f"{max(0, round(seconds))} s ago"
    if seconds < 5400:
        return f"{round(seconds / 60)} min ago"
    return f"{round(seconds / 3600)} h ago"
