"""Colab's settings are applied by default, and every explicit user value wins."""

from __future__ import annotations

import json
import logging

import pytest
from jupyter_server.serverapp import ServerApp
from traitlets.config import Config

from colab_local.config import COLAB_ORIGIN, ColabLocal
from colab_local.server_config.colab_settings import (
    apply_colab_settings,
    warn_about_colab_breaking_values,
)

LOGGER = "test.colab_settings"


@pytest.fixture(autouse=True)
def _capture_info(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)


def make_app(config: dict | None = None, argv: list[str] | None = None) -> ServerApp:
    app = ServerApp(config=Config(config or {}), log=logging.getLogger(LOGGER))
    if argv:
        app.parse_command_line(argv)
    return app


def apply(app: ServerApp) -> dict:
    applied = apply_colab_settings(app, ColabLocal(parent=app))
    warn_about_colab_breaking_values(app)
    return applied


def colab_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_defaults_are_colab_settings(monkeypatch, caplog):
    monkeypatch.delenv("JUPYTER_PORT", raising=False)
    monkeypatch.delenv("JUPYTER_PORT_RETRIES", raising=False)
    app = make_app()
    applied = apply(app)
    assert (app.allow_origin, app.allow_credentials, app.port, app.port_retries) == (
        COLAB_ORIGIN,
        True,
        8888,
        0,
    )
    assert set(applied) == {"allow_origin", "allow_credentials", "port", "port_retries"}
    assert colab_warnings(caplog) == []


@pytest.mark.parametrize(
    ("argv", "name", "expected"),
    [
        (["--ServerApp.allow_origin=https://example.org"], "allow_origin", "https://example.org"),
        (["--ServerApp.allow_credentials=False"], "allow_credentials", False),
        (["--port=9999"], "port", 9999),
        (["--ServerApp.port_retries=3"], "port_retries", 3),
        (["--NotebookApp.allow_origin=*"], "allow_origin", "*"),
        (["--NotebookApp.port=9998"], "port", 9998),
        (["--NotebookApp.allow_credentials=False"], "allow_credentials", False),
    ],
)
def test_command_line_value_wins(argv, name, expected):
    app = make_app(argv=argv)
    applied = apply(app)
    assert getattr(app, name) == expected
    assert name not in applied


@pytest.mark.parametrize("section", ["ServerApp", "NotebookApp"])
def test_config_file_value_wins(tmp_path, monkeypatch, section):
    (tmp_path / "jupyter_server_config.json").write_text(
        json.dumps({section: {"port_retries": 7, "allow_origin": "https://example.org"}})
    )
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    app = make_app()
    app.load_config_file()
    apply(app)
    assert app.port_retries == 7
    assert app.allow_origin == "https://example.org"


def test_jupyter_port_env_wins(monkeypatch):
    monkeypatch.setenv("JUPYTER_PORT", "9123")
    app = make_app()
    applied = apply(app)
    assert app.port == 9123
    assert "port" not in applied


def test_explicit_value_equal_to_default_is_still_explicit():
    app = make_app(argv=["--ServerApp.port_retries=50"])
    apply(app)
    assert app.port_retries == 50


def test_origin_pattern_is_not_overridden():
    app = make_app(argv=[r"--ServerApp.allow_origin_pat=https://.*\.google\.com"])
    apply(app)
    assert app.allow_origin == ""
    assert app.allow_origin_pat == r"https://.*\.google\.com"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--ServerApp.allow_origin=*"], "allow_origin='*'"),
        (["--ServerApp.allow_origin=https://example.org"], "allow_origin='https://example.org'"),
        (["--ServerApp.allow_origin_pat=https://example\\.org"], "allow_origin_pat"),
        (["--ServerApp.allow_credentials=False"], "allow_credentials=False"),
    ],
)
def test_one_clear_warning_for_a_colab_breaking_value(caplog, argv, needle):
    app = make_app(argv=argv)
    apply(app)
    warnings = colab_warnings(caplog)
    assert len(warnings) == 1
    assert needle in warnings[0]
    assert "Colab" in warnings[0]


def test_another_port_is_not_a_warning(caplog):
    app = make_app(argv=["--port=9999"])
    apply(app)
    assert colab_warnings(caplog) == []
    assert app.port == 9999


def test_turning_the_defaults_off_leaves_serverapp_alone(monkeypatch):
    monkeypatch.delenv("JUPYTER_PORT", raising=False)
    app = make_app(argv=["--ColabLocal.apply_colab_settings=False"])
    assert apply_colab_settings(app, ColabLocal(parent=app)) == {}
    assert (app.allow_origin, app.allow_credentials, app.port_retries) == ("", False, 50)


async def test_running_server_has_colab_settings(jp_serverapp):
    # pytest-jupyter chooses the port itself (an explicit value); the rest are Colab's.
    settings = jp_serverapp.web_app.settings
    assert settings["allow_origin"] == COLAB_ORIGIN
    assert settings["allow_credentials"] is True
    assert jp_serverapp.port_retries == 0


@pytest.mark.parametrize("jp_argv", [["--ServerApp.allow_origin=https://example.org"]])
async def test_running_server_keeps_user_origin(jp_serverapp):
    assert jp_serverapp.web_app.settings["allow_origin"] == "https://example.org"


def test_help_all_documents_colab_local_settings():
    help_text = "\n".join(ColabLocal.class_get_help().splitlines())
    for name in ("apply_colab_settings", "private_network_access", "persist_token", "token_file"):
        assert f"--ColabLocal.{name}" in help_text
