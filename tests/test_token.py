"""The persisted token: created once, private, reused; the user's own token always wins."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import stat
import types
from pathlib import Path

import pytest
from jupyter_server.serverapp import ServerApp
from traitlets.config import Config

from colab_local.config import ColabLocal
from colab_local.server_config.server_token import apply_persisted_token
from colab_local.server_config.token_store import (
    TokenFileError,
    is_valid_token,
    load_or_create,
    read,
    rotate,
)

LOG = logging.getLogger("test.token")


@pytest.fixture(autouse=True)
def _capture_info(caplog):
    caplog.set_level(logging.INFO, logger=LOG.name)


@pytest.fixture
def token_file(tmp_path) -> Path:
    return tmp_path / "data" / "colab_local" / "token"


def warnings_in(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_first_use_creates_a_private_urlsafe_token_of_at_least_192_bits(token_file):
    token, created = load_or_create(token_file, LOG)
    assert created
    assert is_valid_token(token)
    assert len(token) * 6 >= 192
    assert token_file.read_text() == token + "\n"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700


def test_later_uses_reuse_the_token(token_file):
    first, _ = load_or_create(token_file, LOG)
    again, created = load_or_create(token_file, LOG)
    assert (again, created) == (first, False)


def test_a_token_others_could_read_is_replaced_with_a_warning(token_file, caplog):
    exposed, _ = load_or_create(token_file, LOG)
    os.chmod(token_file, 0o644)
    token, created = load_or_create(token_file, LOG)
    assert created
    assert token != exposed  # whoever read it cannot use it
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    (warning,) = warnings_in(caplog)
    assert "readable by other users (mode 0644)" in warning
    assert "URL to paste into Colab changed" in warning
    assert exposed not in warning
    assert token not in warning


def test_an_existing_directory_is_never_changed(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)  # readable by others, not writable: fine, the file is 0600
    token, _ = load_or_create(shared / "token", LOG)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "token").stat().st_mode) == 0o600
    assert (shared / "token").read_text().strip() == token


@pytest.mark.parametrize("mode", [0o1777, 0o777, 0o775])
def test_a_directory_others_can_write_is_refused_and_left_alone(tmp_path, mode):
    shared = tmp_path / "like-tmp"
    shared.mkdir()
    os.chmod(shared, mode)
    with pytest.raises(TokenFileError) as refused:
        load_or_create(shared / "token", LOG)
    assert f"can be written by other users (mode {mode:04o})" in str(refused.value)
    assert "ColabLocal.token_file" in str(refused.value)
    assert f"chmod go-w {shared}" in str(refused.value)
    assert stat.S_IMODE(shared.stat().st_mode) == mode
    assert list(shared.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "word"), [("", "empty"), ("short!", "malformed"), ("a b" * 20, "malformed")]
)
def test_empty_or_malformed_file_is_replaced_with_a_warning(token_file, caplog, content, word):
    load_or_create(token_file, LOG)
    token_file.write_text(content)
    token, created = load_or_create(token_file, LOG)
    assert created
    assert is_valid_token(token)
    assert token_file.read_text().strip() == token
    (warning,) = warnings_in(caplog)
    assert word in warning
    assert "URL to paste into Colab changed" in warning


def test_unreadable_bytes_are_replaced_with_a_warning(token_file, caplog):
    load_or_create(token_file, LOG)
    token_file.write_bytes(b"\xff\xfe\x00garbage")
    token, created = load_or_create(token_file, LOG)
    assert created
    assert is_valid_token(token)
    assert "URL to paste into Colab changed" in warnings_in(caplog)[0]


def test_symlink_is_replaced_never_followed(token_file, tmp_path, caplog):
    token_file.parent.mkdir(parents=True, mode=0o700)
    target = tmp_path / "elsewhere"
    target.write_text("A" * 43 + "\n")
    token_file.symlink_to(target)
    token, created = load_or_create(token_file, LOG)
    assert created
    assert token != "A" * 43
    assert not token_file.is_symlink()
    assert target.read_text() == "A" * 43 + "\n"  # the target is untouched
    assert "symlink" in warnings_in(caplog)[0]


def test_a_fifo_is_replaced_without_blocking(token_file, caplog):
    token_file.parent.mkdir(parents=True, mode=0o700)
    os.mkfifo(token_file, 0o600)  # opening it for reading would block until a writer came
    token, created = load_or_create(token_file, LOG)
    assert created
    assert token_file.is_file()
    assert token_file.read_text() == token + "\n"
    assert "not a regular file" in warnings_in(caplog)[0]


@pytest.mark.skipif(os.getuid() != 0, reason="changing a file's owner needs root")
def test_file_owned_by_another_user_is_not_trusted(token_file, caplog):
    first, _ = load_or_create(token_file, LOG)
    os.chown(token_file, 65534, 65534)
    token, created = load_or_create(token_file, LOG)
    assert created
    assert token != first
    assert token_file.stat().st_uid == os.getuid()
    assert "another user" in warnings_in(caplog)[0]


def _race(path: str, barrier, results) -> None:
    barrier.wait()
    token, _ = load_or_create(Path(path), logging.getLogger("race"))
    results.put(token)


def test_processes_racing_on_first_start_end_with_one_token(token_file):
    ctx = multiprocessing.get_context("spawn")
    racers = 8
    barrier, results = ctx.Barrier(racers), ctx.Queue()
    procs = [
        ctx.Process(target=_race, args=(str(token_file), barrier, results)) for _ in range(racers)
    ]
    for p in procs:
        p.start()
    tokens = {results.get(timeout=60) for _ in procs}
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert len(tokens) == 1
    assert token_file.read_text().strip() == tokens.pop()


def test_read_and_rotate(token_file):
    with pytest.raises(TokenFileError, match="no token yet"):
        read(token_file)
    first = rotate(token_file)
    assert read(token_file) == first
    second = rotate(token_file)
    assert second != first
    assert read(token_file) == second
    token_file.write_text("bad")
    with pytest.raises(TokenFileError, match="cannot be used"):
        read(token_file)


# Which token the server uses.


def make_app(token_file: Path, config: dict | None = None, argv: list[str] | None = None):
    """A ServerApp as the load phase sees it: configured, with its IdentityProvider."""
    app = ServerApp(config=Config(config or {}), log=LOG)
    if argv:
        app.parse_command_line(argv)
    app.identity_provider = app.identity_provider_class(parent=app, log=LOG)
    app.web_app = types.SimpleNamespace(settings={"token": app.identity_provider.token})
    options = ColabLocal(parent=app, token_file=str(token_file))
    return app, options


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("JUPYTER_TOKEN", raising=False)
    monkeypatch.delenv("JUPYTER_TOKEN_FILE", raising=False)


@pytest.mark.usefixtures("clean_env")
def test_no_token_configured_uses_the_persisted_one(token_file):
    app, options = make_app(token_file)
    token = apply_persisted_token(app, options)
    assert token == token_file.read_text().strip()
    assert app.identity_provider.token == token
    assert app.identity_provider.token_generated is False
    assert app.web_app.settings["token"] == token
    assert "token" not in app.config.IdentityProvider  # never in the (logged) config


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("config", "argv"),
    [
        (None, ["--IdentityProvider.token=mine"]),
        (None, ["--ServerApp.token=mine"]),
        (None, ["--NotebookApp.token=mine"]),
        ({"IdentityProvider": {"token": "mine"}}, None),
        ({"IdentityProvider": {"token": ""}}, None),
    ],
)
def test_explicit_token_wins_and_the_file_is_left_alone(token_file, config, argv):
    app, options = make_app(token_file, config, argv)
    assert apply_persisted_token(app, options) is None
    assert not token_file.exists()


@pytest.mark.usefixtures("clean_env")
def test_explicit_token_in_a_config_file_wins(token_file, tmp_path, monkeypatch):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"IdentityProvider": {"token": "mine"}})
    )
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(config_dir))
    app, _ = make_app(token_file)
    app.load_config_file()
    assert apply_persisted_token(app, ColabLocal(parent=app, token_file=str(token_file))) is None
    assert not token_file.exists()


@pytest.mark.parametrize("variable", ["JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE"])
def test_token_environment_variables_win(token_file, monkeypatch, tmp_path, variable, clean_env):
    load_or_create(token_file, LOG)
    before = token_file.read_text()
    (tmp_path / "t").write_text("from-file")
    monkeypatch.setenv(variable, "from-env" if variable == "JUPYTER_TOKEN" else str(tmp_path / "t"))
    app, options = make_app(token_file)
    assert apply_persisted_token(app, options) is None
    assert "token" not in app.config.IdentityProvider
    assert token_file.read_text() == before


@pytest.mark.usefixtures("clean_env")
def test_password_keeps_the_persisted_token_beside_it(token_file, caplog):
    app, options = make_app(
        token_file, {"PasswordIdentityProvider": {"hashed_password": "argon2:x"}}
    )
    token = apply_persisted_token(app, options)
    assert token is not None
    assert app.identity_provider.token == token
    assert any("password is configured" in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("clean_env")
def test_password_with_explicit_empty_token_uses_only_the_password(token_file):
    app, options = make_app(
        token_file,
        {
            "PasswordIdentityProvider": {"hashed_password": "argon2:x"},
            "IdentityProvider": {"token": ""},
        },
    )
    assert apply_persisted_token(app, options) is None
    assert not token_file.exists()


@pytest.mark.usefixtures("clean_env")
def test_unusable_token_location_is_a_loud_error_not_a_crash(tmp_path, caplog):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    app, options = make_app(blocker / "token")
    assert apply_persisted_token(app, options) is None
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "changes with each restart" in errors[0]


@pytest.mark.usefixtures("clean_env")
def test_persisting_can_be_turned_off(token_file):
    app, _ = make_app(token_file)
    assert apply_persisted_token(app, ColabLocal(parent=app, persist_token=False)) is None
    assert not token_file.exists()
