"""The three endpoints Colab's page calls on its own runtime image, under ``base_url``:
``/api/colab/resources``, ``/api/colab/drive``, ``/api/colab/build-info``.

Each is a Jupyter ``APIHandler``, authenticated like every API (403 without the token),
with the CORS colab-local gives Colab's origin; each body is the XSSI prefix and JSON, as
the image answers. ``ColabLocal.resource_monitor=False`` leaves them out (404, as plain
Jupyter).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from colab_local.monitor.readings import resources
from colab_local.runtime import ColabHandlerMixin, uses_gateway

#: What Colab's runtime image puts before each JSON body (a guard against JSON hijacking).
XSSI_PREFIX = ")]}'\n"
#: How long the first request waits for the first GPU reading (later ones never wait).
FIRST_READING_WAIT = 2.0


class ColabApiHandler(ColabHandlerMixin, APIHandler):
    auth_resource = "server"

    def answer(self, body: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(XSSI_PREFIX + json.dumps(body))


class ResourcesHandler(ColabApiHandler):
    @web.authenticated
    async def get(self) -> None:
        sampler = self.colab_state.gpu_sampler
        sampler.demand()
        if not sampler.has_reading:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, sampler.wait_first, FIRST_READING_WAIT)
        pids = None if uses_gateway(self.server) else self._kernel_pids()
        self.answer(resources(self.server.root_dir, sampler, pids))

    def _kernel_pids(self) -> dict[str, int]:
        kernel_manager = self.server.kernel_manager
        pids = {}
        for kernel_id in kernel_manager.list_kernel_ids():
            kernel = kernel_manager.get_kernel(kernel_id)
            pid = getattr(getattr(kernel, "provisioner", None), "pid", None)
            if isinstance(pid, int):
                pids[kernel_id] = pid
        return pids


class DriveHandler(ColabApiHandler):
    @web.authenticated
    def get(self) -> None:
        self.answer({"dfs": []})  # Drive's errors: there is no Drive here


class BuildInfoHandler(ColabApiHandler):
    @web.authenticated
    def get(self) -> None:
        self.answer({"release_tag": os.environ.get("COLAB_RELEASE_TAG")})


PATHS = {
    "api/colab/resources": ResourcesHandler,
    "api/colab/drive": DriveHandler,
    "api/colab/build-info": BuildInfoHandler,
}


def handler_rules(base_url: str) -> list[tuple[str, type]]:
    return [(url_path_join(base_url, path), handler) for path, handler in PATHS.items()]
