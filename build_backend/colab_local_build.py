"""colab-local's build backend: setuptools, plus one file setuptools cannot place.

The wheel also carries ``colab_local_old_recipe.pth`` at its root (site-packages), which
lets an old recipe's ``jupyter_http_over_ws`` extension import on today's stack however
a user's config orders it (see colab_local/http_over_ws/old_recipe_hook.py). setuptools installs
data files relative to the environment's prefix only, so the file is added to the built
wheel here, with its line in RECORD, so that ``pip uninstall`` removes it. Everything
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


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, object] | None = None,
    metadata_directory: str | None = None,
) -> str:
    name = _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
    _add_pth(os.path.join(wheel_directory, name))
    return name


def _add_pth(wheel: str) -> None:
    digest = base64.urlsafe_b64encode(hashlib.sha256(PTH_LINE).digest()).rstrip(b"=").decode()
    with zipfile.ZipFile(wheel) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename.endswith(".dist-info/RECORD"):
                target.writestr(PTH_NAME, PTH_LINE)  # before RECORD, which stays last
                record_line = f"{PTH_NAME},sha256={digest},{len(PTH_LINE)}\n".encode()
                target.writestr(info, data + record_line)
            else:
                target.writestr(info, data)
