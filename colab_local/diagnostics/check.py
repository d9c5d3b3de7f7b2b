"""One check's answer: whether Colab can connect through it and, when not, the fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    #: Informational checks (accelerators, the browser) never make the server unhealthy.
    informational: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
