"""google.colab.output: JavaScript in the cell's output, callbacks from it, clearing it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from google.colab import _message
from google.colab._stub import module_getattr

_json_decoder = json.JSONDecoder()
_functions: dict[str, Callable[..., Any]] = {}


def eval_js(script: str, ignore_result: bool = False, timeout_sec: float | None = None) -> Any:
    """Evaluate ``script`` in the cell's output frame (on Colab's page); its result."""
    kernel = _message._kernel()
    request_id = _message.send_request(
        "cell_javascript_eval", {"script": script}, parent=_message._parent_header(kernel)
    )
    if ignore_result:
        return None
    return _message.read_reply_from_input(request_id, timeout_sec)


def register_callback(function_name: str, callback: Callable[..., Any]) -> None:
    """Let JavaScript in outputs call ``callback``:
    ``google.colab.kernel.invokeFunction(function_name, args, kwargs)``."""
    _functions[function_name] = callback


def _invoke_function(function_name: str, json_args: str, json_kwargs: str) -> Any:
    """What Colab's page runs for ``invokeFunction`` (its name is part of the contract)."""
    args = _json_decoder.decode(json_args)
    kwargs = _json_decoder.decode(json_kwargs)
    callback = _functions.get(function_name)
    if callback is None:
        raise ValueError(f"Function not found: {function_name}")
    return callback(*args, **kwargs)


def clear(wait: bool = False, output_tags: Any = ()) -> None:
    """Clear the cell's output (tags: hosted Colab's; here the whole output)."""
    from IPython.display import clear_output  # noqa: PLC0415

    clear_output(wait=wait)


__getattr__ = module_getattr(
    "google.colab.output", "use IPython.display (display, HTML, Javascript, clear_output)"
)
