"""Notebooks from hosted Colab on a fresh server: ``google.colab`` in its kernels, driven
as Colab's page drives them (tests_support.fake_page), through both flows.

The notebook in tests/notebooks/ (the usual first cells: drive.mount, files under
/content/drive/MyDrive, userdata.get, cv2_imshow, files.download, output.clear) runs
unchanged; the page's answers (eval_js, GetSecret, callbacks) are given or withheld.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests_support import colab_client as colab
from tests_support.fake_page import FakePage
from tests_support.machine_lock import machine_wide
from tests_support.server_process import (
    JupyterProcess,
    free_port,
    isolated_env,
    run_jupyter,
    started,
)

pytestmark = pytest.mark.installed

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "from_hosted_colab.ipynb"
CONTENT = Path("/content")
SECRET = "hf_" + "x" * 30
#: How long google.colab waits for a page that never answered, here.
PAGE_TIMEOUT = 2


@pytest.fixture
def content_dir() -> Iterator[Path]:
    """/content, as hosted Colab has it (root here); removed again if the test made it."""
    with machine_wide("content"):
        yield from _content_dir()


def _content_dir() -> Iterator[Path]:
    made = not CONTENT.exists()
    CONTENT.mkdir(exist_ok=True)
    try:
        yield CONTENT
    finally:
        drive = CONTENT / "drive"
        if drive.is_symlink() or drive.is_file():
            drive.unlink()
        elif drive.is_dir():
            for entry in drive.iterdir():
                entry.unlink()
            drive.rmdir()
        if made:
            CONTENT.rmdir()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[JupyterProcess]:
    env = isolated_env(tmp_path)
    stored = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter")), "colab", "secret", "set", "HF_TOKEN"],
        input=SECRET,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert stored.returncode == 0, stored.stderr
    assert SECRET not in stored.stdout + stored.stderr
    args = [
        "--no-browser",
        "--allow-root",
        f"--port={free_port()}",
        f"--ColabLocal.page_reply_timeout={PAGE_TIMEOUT}",
    ]
    process = started(JupyterProcess(tmp_path, args, env=env))
    try:
        yield process
    finally:
        process.stop()


@contextlib.asynccontextmanager
async def page(
    process: JupyterProcess, flow: str, answer: Any = None, kernel: str = "python3"
) -> Any:
    body = {**colab.session_body(f"{flow}.ipynb"), "kernel": {"name": kernel}}
    created = await colab.direct_fetch(
        process.http_root, "api/sessions", process.token, method="POST", body=body
    )
    assert created.code == 201, created.body
    kernel_id = json.loads(created.body)["kernel"]["id"]
    if flow == "direct":
        ws = await colab.open_direct_kernel(process.http_root, process.token, kernel_id, "page")
    else:
        ws = await colab.open_proxied_kernel(process.http_root, process.token, kernel_id, "page")
    try:
        yield FakePage(ws, "page", answer)
    finally:
        ws.close()


def notebook_cells() -> list[str]:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


@pytest.mark.parametrize("flow", ["direct", "tunnel"])
async def test_a_notebook_from_hosted_colab_runs_unchanged(server, content_dir, flow):
    async with page(server, flow) as colab_page:
        cells = []
        for code in notebook_cells():
            cells.append((await colab_page.run(code)).raise_error())
            if "files.download(" in code:  # the page runs the output's JavaScript
                name, data, size = await colab_page.download(cells[-1])
        mounted, rows, secret, image, _, cleared, unmounted = cells
        assert mounted.stdout == "Mounted at /content/drive\n"
        assert rows.stdout == "3 rows\n"
        assert secret.stdout == f"token of length {len(SECRET)}\n"
        (shown,) = image.displays
        png = base64.b64decode(shown["image/png"])
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert cleared.stdout == "cleared\n"
        assert unmounted.error is None
    drive_file = Path(server.home) / "colab-drive" / "data.csv"
    assert (name, data, size) == ("data.csv", drive_file.read_bytes(), drive_file.stat().st_size)
    assert oct(drive_file.parent.stat().st_mode & 0o777) == "0o700"
    assert not (content_dir / "drive").exists()  # unmounted
    assert cells[2].requests == []  # the server's secret: the page was not asked
    # The page ran the download: the fallback link it was offered is gone again.
    assert list((Path(server.home) / "data" / "colab_local" / "download-links").iterdir()) == []
    assert SECRET not in server.log


async def test_a_large_download_arrives_whole_in_chunks_of_at_most_a_mib(server, tmp_path):
    big = tmp_path / "model.bin"
    big.write_bytes(os.urandom(5 * 1024 * 1024 + 123))
    async with page(server, "tunnel") as colab_page:
        cell = await colab_page.run(f"from google.colab import files\nfiles.download({str(big)!r})")
        name, data, size = await colab_page.download(cell.raise_error())
    assert (name, size) == ("model.bin", big.stat().st_size)
    assert data == big.read_bytes()


async def test_eval_js_and_callbacks_use_the_pages_answers(server):
    def answer(kind: str, body: Any) -> Any:
        assert kind == "cell_javascript_eval"
        return {"script": body["script"], "answer": 42}

    async with page(server, "direct", answer) as colab_page:
        cell = await colab_page.run(
            "from google.colab import output\nprint(output.eval_js('6 * 7'))"
        )
        assert cell.raise_error().stdout == "{'script': '6 * 7', 'answer': 42}\n"
        assert cell.requests == [("cell_javascript_eval", {"script": "6 * 7"})]
        registered = await colab_page.run(
            "output.register_callback('notebook.add', lambda a, b=0: a + b)"
        )
        registered.raise_error()
        # What the page runs for google.colab.kernel.invokeFunction('notebook.add', [2], {b: 3}).
        invoked = await colab_page.run(
            "import google.colab\n"
            "print(google.colab.output._invoke_function('notebook.add', '[2]', '{\"b\": 3}'))"
        )
        assert invoked.raise_error().stdout == "5\n"


async def test_a_page_that_never_answers_fails_clearly_within_the_bound(server):
    async with page(server, "tunnel") as colab_page:
        cell = await colab_page.run("from google.colab import output\noutput.eval_js('1')")
        assert cell.error is not None
        assert cell.error[0] == "PageNotAnsweringError"
        assert f"did not answer within {PAGE_TIMEOUT} s" in cell.error[1]
        assert "ColabLocal.page_reply_timeout" in cell.error[1]
        missing = await colab_page.run(
            "from google.colab import userdata\n"
            "try:\n    userdata.get('OPENAI_KEY')\n"
            "except userdata.SecretNotFoundError as e:\n    print(type(e).__name__, e)"
        )
        assert missing.raise_error().stdout.startswith(
            "SecretNotFoundError Secret OPENAI_KEY does not exist. (not among this server's "
            "secrets: `jupyter colab secret set OPENAI_KEY`"
        )
        assert missing.requests == [("GetSecret", {"key": "OPENAI_KEY"})]


@pytest.mark.parametrize(
    ("reply", "printed"),
    [
        ({"exists": True, "access": True, "payload": "from-colab"}, "from-colab"),
        ({"exists": False}, "SecretNotFoundError Secret WANDB_KEY does not exist."),
        (
            {"exists": True, "access": False},
            "NotebookAccessError Notebook does not have access to secret WANDB_KEY",
        ),
    ],
)
async def test_colabs_own_secrets_come_through_the_page(server, reply, printed):
    async with page(server, "direct", lambda kind, body: reply) as colab_page:
        cell = await colab_page.run(
            "from google.colab import userdata\n"
            "try:\n    print(userdata.get('WANDB_KEY'))\n"
            "except (userdata.SecretNotFoundError, userdata.NotebookAccessError) as e:\n"
            "    print(type(e).__name__, e)"
        )
    assert cell.raise_error().stdout == printed + "\n"


async def test_a_real_google_colab_in_the_kernels_environment_wins(server, tmp_path):
    """A real google-colab installed where the kernel's Python finds it (after
    PYTHONPATH, as site-packages is): the kernel gets it, not colab-local's."""
    real = tmp_path / "site" / "google" / "colab"
    real.mkdir(parents=True)
    (real / "__init__.py").write_text("REAL = True\n")
    (real / "drive.py").write_text("def mount(*args, **kwargs):\n    return 'the real one'\n")
    spec = Path(server.home) / "data" / "kernels" / "python3-with-google-colab"
    spec.mkdir(parents=True)
    launcher = (
        f"import sys; sys.path.append({str(tmp_path / 'site')!r}); "
        "from ipykernel import kernelapp; kernelapp.launch_new_instance()"
    )
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-c", launcher, "-f", "{connection_file}"],
                "display_name": "Python 3 (google-colab installed)",
                "language": "python",
            }
        )
    )
    async with page(server, "direct", kernel="python3-with-google-colab") as colab_page:
        cell = await colab_page.run(
            "import google.colab\nfrom google.colab import drive\n"
            "print(google.colab.REAL, drive.mount('/content/drive'))\n"
            "print(hasattr(google.colab, 'COLAB_LOCAL'))"
        )
    assert cell.raise_error().stdout == "True the real one\nFalse\n"


async def test_hosted_only_modules_import_and_say_what_to_do(server):
    async with page(server, "direct") as colab_page:
        cell = await colab_page.run(
            "from google.colab import auth, data_table, runtime, sheets, widgets, ai\n"
            "for call in (runtime.unassign, data_table.enable_dataframe_formatter):\n"
            "    try:\n        call()\n"
            "    except NotImplementedError as e:\n        print(type(e).__name__, e)\n"
            "try:\n    auth.authenticate_user()\n"
            "except Exception as e:\n    print(type(e).__name__, e)"
        )
    lines = cell.raise_error().stdout.splitlines()
    assert lines[0].startswith("LocalRuntimeError google.colab.runtime.unassign needs hosted Colab")
    assert "stop it from its own shell" in lines[0]
    assert lines[1].startswith("LocalRuntimeError google.colab.data_table.")
    assert "gcloud auth application-default login" in lines[2]


async def test_auth_succeeds_with_application_default_credentials(server, tmp_path):
    credentials = Path(server.home) / ".config" / "gcloud" / "application_default_credentials.json"
    credentials.parent.mkdir(parents=True)
    credentials.write_text('{"type": "authorized_user"}')
    async with page(server, "tunnel") as colab_page:
        cell = await colab_page.run(
            "from google.colab import auth\nprint(auth.authenticate_user())"
        )
    assert cell.raise_error().stdout == "None\n"


def test_the_servers_own_python_and_other_processes_do_not_get_it(server):
    """Only the kernels' environment has it: no interpreter-wide hook."""
    plain = subprocess.run(
        [sys.executable, "-c", "import google.colab"],
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "No module named 'google" in plain.stderr
    listed = run_jupyter(server.home, "colab", "secret", "list", env=server.env)
    assert listed.stdout == "HF_TOKEN\n"
    assert SECRET not in listed.stdout


async def test_files_upload_reads_what_the_page_hands_over(server, tmp_path):
    """The page's side of files.upload: the picker answers once the user chose files,
    then one base64 piece per continue call, then complete (as the displayed script)."""
    pieces = iter(
        [
            {"action": "starting", "file": "notes.txt"},
            {"action": "append", "file": "notes.txt", "data": base64.b64encode(b"first ").decode()},
            {"action": "append", "file": "notes.txt", "data": base64.b64encode(b"second").decode()},
            {"action": "complete"},
        ]
    )

    def answer(kind: str, body: Any) -> Any:
        assert kind == "cell_javascript_eval"
        if "_uploadFiles(" in body["script"]:
            return {"action": "starting"}
        return next(pieces)

    async with page(server, "tunnel", answer) as colab_page:
        cell = await colab_page.run(
            f"import os\nos.chdir({str(tmp_path)!r})\n"
            "from google.colab import files\nuploaded = files.upload()\n"
            "print(uploaded, open('notes.txt', 'rb').read())"
        )
    assert cell.raise_error().stdout == (
        "Saving notes.txt to notes.txt\n{'notes.txt': b'first second'} b'first second'\n"
    )
    (picker,) = cell.displays
    assert 'type="file"' in picker["text/html"]
    assert "_uploadFilesContinue(outputId)" in picker["text/html"]


async def test_without_the_page_a_download_is_a_one_time_link_without_the_token(server, tmp_path):
    report = tmp_path / "report.csv"
    report.write_bytes(b"a,b\n" * 1000)
    async with page(server, "direct") as colab_page:  # this page never runs the JavaScript
        cell = await colab_page.run(
            f"from google.colab import files\nfiles.download({str(report)!r})"
        )
    printed = cell.raise_error().stdout
    assert "open this link once, within 10 min, in a browser on your laptop" in printed
    assert server.token not in printed  # Colab saves outputs with the notebook
    url = printed.split(": ")[-1].strip()
    assert url.startswith(f"http://localhost:{server.port}/colab/download/")
    path = url.split(f":{server.port}/", 1)[1]

    first = await colab.direct_fetch(server.http_root, path, None, origin=None)
    assert first.code == 200
    assert first.body == report.read_bytes()
    assert first.headers["Content-Disposition"] == "attachment; filename*=UTF-8''report.csv"
    again = await colab.direct_fetch(server.http_root, path, None, origin=None)
    assert again.code == 404  # one time
    guessed = await colab.direct_fetch(server.http_root, "colab/download/" + "A" * 43, None)
    assert guessed.code == 404
    links = Path(server.home) / "data" / "colab_local" / "download-links"
    assert list(links.iterdir()) == []


async def offered_link(server, source: Path) -> tuple[str, Path]:
    """A one-time link the kernel offered for ``source``: its URL path and its link file."""
    async with page(server, "direct") as colab_page:
        cell = await colab_page.run(
            f"from google.colab import files\nfiles.download({str(source)!r})"
        )
    path = cell.raise_error().stdout.split(f":{server.port}/", 1)[1].strip()
    links = Path(server.home) / "data" / "colab_local" / "download-links"
    (link,) = links.iterdir()
    return path, link


async def test_an_expired_download_link_is_gone(server, tmp_path):
    report = tmp_path / "old.bin"
    report.write_bytes(b"old")
    path, link = await offered_link(server, report)
    record = json.loads(link.read_text())
    link.write_text(json.dumps({**record, "expires": 0}))
    expired = await colab.direct_fetch(server.http_root, path, None, origin=None)
    assert expired.code == 410
    assert list(link.parent.iterdir()) == []


def swap_for_a_symlink_to_the_token(source: Path, server) -> None:
    source.unlink()
    source.symlink_to(Path(server.home) / "data" / "colab_local" / "token")


def swap_for_a_fifo(source: Path, server) -> None:
    source.unlink()
    os.mkfifo(source)


def swap_for_another_file(source: Path, server) -> None:
    planted = source.with_name("planted")
    planted.write_bytes(b"planted")
    planted.replace(source)


@pytest.mark.parametrize(
    "swap", [swap_for_a_symlink_to_the_token, swap_for_a_fifo, swap_for_another_file]
)
async def test_a_link_serves_only_the_file_the_kernel_named(server, tmp_path, swap):
    """A file swapped after the link was made (downloading from a directory another user
    can write) is never served: not the token through a symlink, no hang on a FIFO."""
    source = tmp_path / "result.csv"
    source.write_bytes(b"mine")
    path, _ = await offered_link(server, source)
    swap(source, server)
    answer = await colab.direct_fetch(server.http_root, path, None, origin=None)
    assert answer.code == 404
    assert server.token.encode() not in answer.body
    assert (await colab.direct_fetch(server.http_root, "api/status", server.token)).code == 200


@pytest.mark.parametrize(
    "planted",
    [
        "a directory",
        '{"path": ["x"], "expires": 1e300}',
        '{"path": "/etc/hostname", "expires": "soon", "device": 1, "inode": 1}',
        '{"path": "/etc/hostname", "expires": 1e300}',
        "[]",
        "not json",
    ],
)
async def test_a_malformed_or_planted_link_file_is_a_404_without_a_traceback(
    server, tmp_path, planted
):
    source = tmp_path / "result.csv"
    source.write_bytes(b"mine")
    path, link = await offered_link(server, source)
    mark = server.log_mark()
    link.unlink()
    if planted == "a directory":
        link.mkdir()
    else:
        link.write_text(planted)
        link.chmod(0o600)
    answer = await colab.direct_fetch(server.http_root, path, None, origin=None)
    assert answer.code in (404, 410)
    assert "Traceback" not in server.log_after(mark)


async def test_what_a_kernel_starts_inherits_google_colab_as_the_readme_says(server):
    async with page(server, "direct") as colab_page:
        cell = await colab_page.run(
            "import subprocess, sys\n"
            "code = 'import google.colab; print(google.colab.COLAB_LOCAL)'\n"
            "child = [sys.executable, '-c', code]\n"
            "print(subprocess.run(child, capture_output=True, text=True).stdout.strip())"
        )
    assert cell.raise_error().stdout == "True\n"
