"""colab-local's build backend: setuptools, plus files setuptools cannot place.

The wheel also carries ``colab_local_old_recipe.pth`` at its root (site-packages), which
lets an old recipe's ``jupyter_http_over_ws`` extension import on today's stack however
a user's config orders it (see colab_local/http_over_ws/old_recipe_hook.py). setuptools installs
data files relative to the environment's prefix only, so the file is added to the built
wheel here, with its line in RECORD, so that ``pip uninstall`` removes it.

An editable wheel (``pip install -e .``) gets the same .pth and the config file that
enables the extension (setuptools leaves ``data_files`` out of editable wheels), so a
checkout installed for development behaves as the installed package does. Everything
else is setuptools.build_meta, unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 (the rest of the PEP 517 interface)

PTH_NAME = "colab_local_old_recipe.pth"
# One import, of a module that imports nothing but the standard library.
PTH_LINE = b"import colab_local.http_over_ws.old_recipe_hook\n"


#: The shipped config that enables the extension, where the wheel's data files go.
CONFIG = "jupyter-config/jupyter_server_config.d/colab_local.json"
CONFIG_TARGET = "etc/jupyter/jupyter_server_config.d/colab_local.json"


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, object] | None = None,
    metadata_directory: str | None = None,
) -> str:
    name = _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
    _add_files(os.path.join(wheel_directory, name), {PTH_NAME: PTH_LINE})
    return name


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, object] | None = None,
    metadata_directory: str | None = None,
) -> str:
    name = _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
    with open(CONFIG, "rb") as config:
        enabling = config.read()
    data = name.split("-")[0] + "-" + name.split("-")[1] + ".data/data/"
    _add_files(
        os.path.join(wheel_directory, name), {PTH_NAME: PTH_LINE, data + CONFIG_TARGET: enabling}
    )
    return name


def _add_files(wheel: str, files: dict[str, bytes]) -> None:
    """``files`` (name in the wheel: content) added before RECORD, each with its line."""
    with zipfile.ZipFile(wheel) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename.endswith(".dist-info/RECORD"):
                record = b""
                for name, content in files.items():
                    target.writestr(name, content)  # before RECORD, which stays last
                    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest())
                    line = f"{name},sha256={digest.rstrip(b'=').decode()},{len(content)}\n"
                    record += line.encode()
                target.writestr(info, data + record)
            else:
                target.writestr(info, data)
