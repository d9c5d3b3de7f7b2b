"""One private-file rule for every file colab-local writes or reads back: the token's rule,
for the gateway's environment file, the gateway sessions database and the units too."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from colab_local.cli.service_units import write_gateway_env_file, write_unit
from colab_local.private_files import (
    PrivateFileError,
    ensure_private_directory,
    open_private_directory,
    private_directory,
    read_private,
)
from colab_local.workarounds.gateway_kernels import private_sessions_database

LOG = logging.getLogger("test.private_files")
needs_root = pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user needs root")


def tokens(path):
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_a_fifo_is_refused_without_blocking(private_dir):
    os.mkfifo(private_dir / "f", 0o600)
    assert read_private(private_dir / "f") == (
        None,
        "it is not a regular file (a FIFO, a device or a directory)",
    )


def test_a_symlink_is_never_followed(private_dir, tmp_path):
    (tmp_path / "target").write_text("secret")
    (tmp_path / "target").chmod(0o600)
    (private_dir / "link").symlink_to(tmp_path / "target")
    assert read_private(private_dir / "link") == (None, "it is a symlink")


def test_the_gateway_env_file_is_created_private_and_kept(private_dir):
    env = private_dir / "kernel-gateway.env"
    assert write_gateway_env_file(env) == ""
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    first = tokens(env)
    assert first["KG_AUTH_TOKEN"] == first["JUPYTER_GATEWAY_AUTH_TOKEN"]
    assert write_gateway_env_file(env) == ""
    assert tokens(env) == first


def test_a_gateway_env_file_others_could_read_is_replaced_with_a_warning(private_dir):
    env = private_dir / "kernel-gateway.env"
    env.write_text("KG_AUTH_TOKEN=planted\nJUPYTER_GATEWAY_AUTH_TOKEN=planted\n")
    env.chmod(0o666)
    warning = write_gateway_env_file(env)
    assert "readable by other users (mode 0666)" in warning
    assert "Wrote a new gateway token" in warning
    assert tokens(env)["KG_AUTH_TOKEN"] != "planted"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


@needs_root
def test_a_directory_another_user_made_is_refused_for_every_file(tmp_path):
    shared = tmp_path / "colab_local"
    shared.mkdir(mode=0o755)
    planted = shared / "kernel-gateway.env"
    planted.write_text("KG_AUTH_TOKEN=a\nJUPYTER_GATEWAY_AUTH_TOKEN=a\n")
    os.chown(shared, 65534, 65534)
    for write in (
        lambda: write_gateway_env_file(planted),
        lambda: private_sessions_database(shared / "sessions-8888.db", LOG),
        lambda: write_unit(shared / "colab-local.service", "[Service]\n"),
    ):
        with pytest.raises(PrivateFileError, match="belongs to another user"):
            write()
    assert sorted(p.name for p in shared.iterdir()) == ["kernel-gateway.env"]


def test_a_directory_others_can_write_is_refused(tmp_path):
    shared = tmp_path / "colab_local"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(PrivateFileError, match=r"can be written by other users \(mode 0777\)"):
        private_sessions_database(shared / "sessions-8888.db", LOG)
    assert list(shared.iterdir()) == []


def test_the_sessions_database_is_created_private(private_dir):
    database = private_dir / "sessions-8888.db"
    private_sessions_database(database, LOG)
    assert database.is_file()
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_a_sessions_database_others_could_rewrite_is_started_anew(private_dir, caplog):
    database = private_dir / "sessions-8888.db"
    database.write_bytes(b"planted sessions")
    database.chmod(0o646)
    private_sessions_database(database, LOG)
    assert database.read_bytes() == b""
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert "readable by other users (mode 0646)" in caplog.text


def umask_000_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    monkeypatch.setenv("HOME", str(home))
    return home


def test_a_data_directory_chain_made_under_umask_000_is_private_all_the_way(tmp_path, monkeypatch):
    home = umask_000_home(tmp_path, monkeypatch)
    data = home / ".local" / "share" / "jupyter" / "colab_local"
    previous = os.umask(0)
    try:
        ensure_private_directory(data)
    finally:
        os.umask(previous)
    for directory in (data, *list(data.parents)[:3]):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


@pytest.mark.parametrize("mode", [0o777, 0o775])
def test_a_parent_of_ones_own_that_others_can_write_is_repaired_with_a_warning(
    tmp_path, monkeypatch, caplog, mode
):
    home = umask_000_home(tmp_path, monkeypatch)
    jupyter = home / ".local" / "share" / "jupyter"
    jupyter.mkdir(parents=True)
    os.chmod(jupyter, mode)  # made by an older release, or another tool, under umask 000/002
    with caplog.at_level(logging.WARNING):
        ensure_private_directory(jupyter / "colab_local")
    assert stat.S_IMODE(jupyter.stat().st_mode) == mode & ~0o022
    assert f"{jupyter} could be written by other users (mode {mode:04o})" in caplog.text


def test_a_directory_outside_home_that_others_can_write_is_refused_on_the_way(
    tmp_path, monkeypatch
):
    umask_000_home(tmp_path, monkeypatch)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    (shared / "mine").mkdir(mode=0o700)
    with pytest.raises(PrivateFileError, match=f"{shared} can be written by other users"):
        open_private_directory(shared / "mine")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o777  # not ours to change


def test_a_sticky_directory_on_the_way_is_fine(tmp_path, monkeypatch):
    umask_000_home(tmp_path, monkeypatch)
    like_tmp = tmp_path / "like-tmp"
    like_tmp.mkdir()
    os.chmod(like_tmp, 0o1777)
    ensure_private_directory(like_tmp / "mine")
    os.close(open_private_directory(like_tmp / "mine"))


@needs_root
def test_a_directory_on_the_way_that_another_user_planted_is_refused(tmp_path, monkeypatch):
    home = umask_000_home(tmp_path, monkeypatch)
    planted = home / ".local"
    planted.mkdir(mode=0o755)
    os.chown(planted, 65534, 65534)
    with pytest.raises(PrivateFileError, match=f"{planted} belongs to another user"):
        ensure_private_directory(planted / "share" / "jupyter" / "colab_local")


def test_files_are_read_through_the_descriptor_whatever_is_renamed_meanwhile(tmp_path):
    directory = tmp_path / "links"
    directory.mkdir(mode=0o700)
    (directory / "a.json").write_text("mine")
    os.chmod(directory / "a.json", 0o600)
    with private_directory(directory) as fd:
        os.rename(directory, tmp_path / "moved")
        directory.mkdir(mode=0o700)
        (directory / "a.json").write_text("planted")
        assert read_private("a.json", dir_fd=fd)[0] == "mine"
