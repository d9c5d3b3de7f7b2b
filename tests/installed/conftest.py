from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from tests_support.server_process import checked_log_span

_HERE = pathlib.Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in this folder drives the installed wheel: the ``installed`` tier."""
    for item in items:
        if _HERE in pathlib.Path(item.path).parents:
            item.add_marker(pytest.mark.installed)


@pytest.fixture
def each_test_checks_its_log(request: pytest.FixtureRequest) -> Iterator[None]:
    """For a module whose tests share one ``server``: what the server logged during each
    test has no traceback, unretrieved failure or token (its own span, in any order).
    Modules opt in with ``pytest.mark.usefixtures("each_test_checks_its_log")``."""
    if "server" not in request.fixturenames:
        yield
        return
    with checked_log_span(request.getfixturevalue("server")):
        yield
