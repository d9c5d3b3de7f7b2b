"""userdata's server secrets: read without ever blocking, and only from a private file in
a private directory (whatever is put at the path: a FIFO, a symlink, another user's
directory); run in a fresh interpreter with the kernels' PYTHONPATH."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import colab_local

SHIM = Path(colab_local.__file__).parent / "kernel_shim"
READ = "from google.colab import userdata; print(userdata._server_secrets())"


def server_secrets(secrets_file: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", READ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,  # a read that blocks fails here
        env={"PYTHONPATH": str(SHIM), "COLAB_LOCAL_SECRETS_FILE": str(secrets_file)},
    )
    return done.stdout.strip()


def test_a_private_secrets_file_is_read(private_dir):
    secrets = private_dir / "secrets.json"
    secrets.write_text(json.dumps({"HF_TOKEN": "x"}))
    secrets.chmod(0o600)
    assert server_secrets(secrets) == "{'HF_TOKEN': 'x'}"


def test_a_fifo_at_the_secrets_path_means_no_secrets_without_hanging(private_dir):
    os.mkfifo(private_dir / "secrets.json", 0o600)
    assert server_secrets(private_dir / "secrets.json") == "{}"


def test_a_symlink_at_the_secrets_path_means_no_secrets(private_dir, tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"HF_TOKEN": "planted"}))
    target.chmod(0o600)
    (private_dir / "secrets.json").symlink_to(target)
    assert server_secrets(private_dir / "secrets.json") == "{}"


def test_secrets_in_a_directory_others_can_write_are_not_used(private_dir):
    secrets = private_dir / "secrets.json"
    secrets.write_text(json.dumps({"HF_TOKEN": "x"}))
    secrets.chmod(0o600)
    private_dir.chmod(0o777)
    assert server_secrets(secrets) == "{}"
