"""google.colab.files: download to the browser, upload from it, through Colab's page.

``download`` keeps hosted Colab's scheme, since the page's side is the JavaScript shown in
the output: the kernel registers a comm target ``download_<uuid>``, the JavaScript opens
it and sends an empty message, and each empty message gets the next chunk of the file
(at most 1 MiB, in the message's buffers) until the kernel closes the comm. The file is
read a chunk at a time: memory stays bounded whatever its size. ``upload`` shows a file
picker and reads the chosen files through ``output.eval_js``.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from google.colab import _message, _private, output

__all__ = ["download", "upload", "upload_file", "view"]

CHUNK_BYTES = 1024 * 1024
_UPLOAD_JS = (Path(__file__).with_name("files.js")).read_text(encoding="utf-8")

_DOWNLOAD_JS = """
async function download(id, filename, size) {
  if (!google.colab.kernel.accessAllowed) {
    return;
  }
  const div = document.createElement('div');
  const label = document.createElement('label');
  label.textContent = `Downloading "${filename}": `;
  div.appendChild(label);
  const progress = document.createElement('progress');
  progress.max = size;
  div.appendChild(progress);
  document.body.appendChild(div);
  const buffers = [];
  let received = 0;
  const channel = await google.colab.kernel.comms.open(id);
  channel.send({});  // ready for the first chunk
  for await (const message of channel.messages) {
    channel.send({});  // ready for the next one
    for (const buffer of message.buffers || []) {
      buffers.push(buffer);
      received += buffer.byteLength;
      progress.value = received;
    }
  }
  const link = document.createElement('a');
  link.href = window.URL.createObjectURL(new Blob(buffers, {type: 'application/binary'}));
  link.download = filename;
  div.appendChild(link);
  link.click();
  div.remove();
}
"""


def download(filename: str | os.PathLike[str]) -> None:
    """Send ``filename`` to the browser, which saves it (Colab's page asks where)."""
    from IPython import get_ipython  # noqa: PLC0415
    from IPython.display import Javascript, display  # noqa: PLC0415

    if not os.path.exists(filename):
        raise FileNotFoundError(f"Cannot find file: {filename}")
    path = os.path.realpath(filename)  # the file as it is now (a later unmount: still found)
    comm_manager = get_ipython().kernel.comm_manager
    target = f"download_{uuid.uuid4()}"

    link = None if _message._page_answered else _one_time_link(path, filename)

    def opened(comm: Any, _: Any) -> None:
        _message._page_answered = True  # the page ran the download's JavaScript
        if link is not None:
            _remove_link(link)
        source = open(path, "rb")  # noqa: SIM115 (closed with the comm)

        def on_message(_: Any) -> None:
            chunk = source.read(CHUNK_BYTES)
            if chunk:
                comm.send({}, None, [chunk])
                return
            comm.close()
            source.close()
            comm_manager.unregister_target(target, opened)

        comm.on_msg(on_message)

    comm_manager.register_target(target, opened)
    display(Javascript(_DOWNLOAD_JS))
    name, size = os.path.basename(filename), os.path.getsize(path)
    display(Javascript(f"download({json.dumps(target)}, {json.dumps(name)}, {size})"))
    if link is not None:
        url = os.environ["COLAB_LOCAL_DOWNLOAD_URL"] + link.stem
        minutes = round(float(os.environ.get("COLAB_LOCAL_DOWNLOAD_SECONDS", "600")) / 60)
        print(
            f"If the download does not start (Colab's page has not answered this kernel "
            f"yet), open this link once, within {minutes} min, in a browser on your laptop "
            f"(through your tunnel): {url}"
        )


def _one_time_link(path: str, filename: str | os.PathLike[str]) -> Path | None:
    """A one-time link file for the server's /colab/download/ (no token in it), created in
    the links directory only if it is private (checked now: another user could have
    replaced it). It names the file by path, device and inode: the server serves only
    that same file."""
    directory = os.environ.get("COLAB_LOCAL_DOWNLOAD_LINKS")
    if not directory or "COLAB_LOCAL_DOWNLOAD_URL" not in os.environ:
        return None
    seconds = float(os.environ.get("COLAB_LOCAL_DOWNLOAD_SECONDS", "600"))
    name = f"{secrets.token_urlsafe(32)}.json"
    try:
        info = os.stat(path)
        links = _private.open_private_directory(directory)
        try:
            fd = os.open(
                name,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
                dir_fd=links,
            )
        finally:
            os.close(links)
    except OSError:
        return None
    record = {
        "path": path,
        "name": os.path.basename(filename),
        "expires": time.time() + seconds,
        "device": info.st_dev,
        "inode": info.st_ino,
    }
    with os.fdopen(fd, "w") as f:
        json.dump(record, f)
    return Path(directory) / name


def _remove_link(link: Path) -> None:
    """The link file, removed once the page took the download (in the private directory)."""
    try:
        links = _private.open_private_directory(link.parent)
    except OSError:
        return
    try:
        os.unlink(link.name, dir_fd=links)
    except OSError:
        pass
    finally:
        os.close(links)


def _upload_files(multiple: bool) -> dict[str, bytes]:
    from IPython.display import HTML, display  # noqa: PLC0415

    upload_id = str(uuid.uuid4())
    input_id, output_id = f"files-{upload_id}", f"result-{upload_id}"
    display(
        HTML(
            f'<input type="file" id="{input_id}" name="files[]" '
            f'{"multiple" if multiple else ""} disabled style="border:none" />'
            f'<output id="{output_id}">Upload widget is only available when the cell has '
            "been executed in the current browser session. Please rerun this cell to "
            f"enable.</output><script>{_UPLOAD_JS}</script>"
        )
    )
    result = output.eval_js(f'google.colab._files._uploadFiles("{input_id}", "{output_id}")')
    files: collections.defaultdict[str, bytes] = collections.defaultdict(bytes)
    while result["action"] != "complete":
        result = output.eval_js(f'google.colab._files._uploadFilesContinue("{output_id}")')
        if result["action"] == "append":
            files[result["file"]] += base64.b64decode(result["data"])
    return dict(files)


def _unique(filename: str) -> str:
    if not os.path.lexists(filename):
        return filename
    stem, extension = os.path.splitext(filename)
    counter = 1
    while os.path.lexists(f"{stem} ({counter}){extension}"):
        counter += 1
    return f"{stem} ({counter}){extension}"


def upload() -> dict[str, bytes]:
    """Ask the browser for files; save each in the working directory. {name: bytes}."""
    uploaded = _upload_files(multiple=True)
    for name, data in uploaded.items():
        local = _unique(name)
        print(f"Saving {name} to {local}")
        with open(local, "wb") as f:
            f.write(data)
    return uploaded


def upload_file(filename: str) -> None:
    """Ask the browser for one file; save it as ``filename``."""
    uploaded = _upload_files(multiple=False)
    if not uploaded:
        raise ValueError("File has not been uploaded")
    if len(uploaded) > 1:
        raise ValueError("Multiple files received, please upload a single file")
    name, data = next(iter(uploaded.items()))
    with open(filename, "wb") as f:
        f.write(data)
    print(f"Saved {name} to {os.path.join(os.getcwd(), filename)}")


def view(filepath: str | os.PathLike[str]) -> None:
    """Open ``filepath`` in Colab's file viewer (the page's)."""
    from IPython.display import Javascript, display  # noqa: PLC0415

    if not os.path.exists(filepath):
        raise FileNotFoundError(f"Cannot find file: {filepath}")
    path = json.dumps(os.path.abspath(filepath))
    display(
        Javascript(
            f"((p) => {{ if (google.colab.kernel.accessAllowed) google.colab.files.view(p); }})"
            f"({path})"
        )
    )
