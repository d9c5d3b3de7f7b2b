"""Colab's runtime-panel endpoints in process: the contract (XSSI prefix, JSON shape),
authentication, CORS for Colab's origin only, the switch; and the GPU sampler against a
fake NVML and a fake nvidia-smi (tests/installed/test_monitor.py: a real server)."""

from __future__ import annotations

import json
import logging
import sys
import types
from typing import Any

import psutil
import pytest

from colab_local.monitor.gpus import GpuSampler, Nvml, read_nvidia_smi
from colab_local.monitor.handlers import PATHS, XSSI_PREFIX
from tests_support import colab_client as colab
from tests_support.colab_client import COLAB_ORIGIN, direct_fetch
from tests_support.fake_gpu import FakeGpus
from tests_support.server_process import wait_for

ENDPOINTS = sorted(PATHS)


def body_of(response: Any) -> Any:
    text = response.body.decode()
    assert text.startswith(XSSI_PREFIX), text[:40]
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(text[len(XSSI_PREFIX) :])


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_each_endpoint_needs_the_token(http_root, path):
    refused = await direct_fetch(http_root, path, None)
    assert refused.code == 403
    wrong = await direct_fetch(http_root, path, "not-the-token")
    assert wrong.code == 403


async def test_drive_and_build_info_answer_as_colabs_image_does_outside_it(
    http_root, token, monkeypatch
):
    assert body_of(await direct_fetch(http_root, "api/colab/drive", token)) == {"dfs": []}
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    info = body_of(await direct_fetch(http_root, "api/colab/build-info", token))
    assert info == {"release_tag": None}
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-local-test")
    info = body_of(await direct_fetch(http_root, "api/colab/build-info", token))
    assert info == {"release_tag": "release-colab-local-test"}


async def test_resources_report_this_servers_memory_disk_and_kernels(
    http_root, token, jp_serverapp
):
    created = await direct_fetch(
        http_root, "api/sessions", token, method="POST", body=colab.session_body("m.ipynb")
    )
    kernel_id = json.loads(created.body)["kernel"]["id"]
    channel = await colab.open_direct_kernel(http_root, token, kernel_id, "m")  # started
    channel.close()
    answer = body_of(await direct_fetch(http_root, "api/colab/resources", token))
    pid = jp_serverapp.kernel_manager.get_kernel(kernel_id).provisioner.pid
    rss = psutil.Process(pid).memory_info().rss

    assert set(answer) == {"memory", "disks", "gpus"}
    memory = answer["memory"]
    assert memory["totalBytes"] == psutil.virtual_memory().total
    assert 0 < memory["freeBytes"] <= memory["totalBytes"]
    kernels = {k["uuid"]: k["usedBytes"] for k in memory["kernels"]}
    assert kernel_id in kernels
    assert rss / 2 <= kernels[kernel_id] <= rss * 2  # that kernel process's resident memory
    (disk,) = answer["disks"]
    usage = psutil.disk_usage(jp_serverapp.root_dir)
    assert disk["filesystem"]["label"] == "kernel"
    assert disk["filesystem"]["totalBytes"] == usage.total
    assert 0 < disk["filesystem"]["usedBytes"] <= usage.total
    assert isinstance(answer["gpus"], list)


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_colabs_origin_gets_cors_with_credentials_and_preflights(http_root, token, path):
    answered = await direct_fetch(http_root, path, token)
    assert answered.headers["Access-Control-Allow-Origin"] == COLAB_ORIGIN
    assert answered.headers["Access-Control-Allow-Credentials"] == "true"
    preflight = await direct_fetch(
        http_root,
        path,
        None,
        method="OPTIONS",
        headers={
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == COLAB_ORIGIN
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("origin", ["https://evil.example", "https://colab.research.google.com.x"])
async def test_other_origins_get_no_cors(http_root, token, path, origin):
    """Their origin is never allowed (Jupyter names its one allowed origin, Colab's)."""
    for method in ("GET", "OPTIONS"):
        answered = await direct_fetch(http_root, path, token, method=method, origin=origin)
        assert answered.headers.get("Access-Control-Allow-Origin") in (None, COLAB_ORIGIN)


@pytest.mark.parametrize("jp_argv", [["--ColabLocal.resource_monitor=False"]])
@pytest.mark.parametrize("path", ENDPOINTS)
async def test_the_endpoints_can_be_switched_off(http_root, token, path):
    assert (await direct_fetch(http_root, path, token)).code == 404


# The GPU sampler, on its own.


def fake_nvml(monkeypatch: pytest.MonkeyPatch, gpus: FakeGpus) -> None:
    module = types.ModuleType("pynvml")
    exec(gpus.nvml_source(), module.__dict__)  # noqa: S102 (the test's own fake)
    monkeypatch.setitem(sys.modules, "pynvml", module)


def without_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("pynvml")

    def missing() -> None:
        raise OSError("libnvidia-ml.so.1: cannot open shared object file")

    module.nvmlInit = missing  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", module)


def sampled(sampler: GpuSampler) -> list[dict[str, Any]]:
    sampler.demand()
    sampler.wait_first(10)
    return sampler.readings()


def test_nvml_readings_have_colabs_fields_as_fractions(tmp_path, monkeypatch):
    gpus = FakeGpus(tmp_path)
    fake_nvml(monkeypatch, gpus)
    nvml = Nvml.load()
    assert nvml is not None
    assert nvml.read() == gpus.expected(ever_used=None)


def test_nvidia_smi_readings_match_nvml_readings(tmp_path):
    gpus = FakeGpus(tmp_path)
    assert read_nvidia_smi(str(gpus.nvidia_smi), 1.0) == gpus.expected(ever_used=None)


def test_nvidia_smi_is_the_fallback_and_ever_used_sticks(tmp_path, monkeypatch):
    gpus = FakeGpus(tmp_path)
    without_nvml(monkeypatch)
    monkeypatch.setenv("PATH", str(gpus.bin))
    sampler = GpuSampler(interval=0.05)
    first = sampled(sampler)
    assert first == gpus.expected(ever_used=[True, False])
    gpus.set_memory_used([0, 0])  # the first GPU's memory freed: it was still used
    gpus.wait_for_queries(sampler, sampler.queries + 2)
    assert [g["everUsed"] for g in sampler.readings()] == [True, False]
    assert [g["memoryUsedBytes"] for g in sampler.readings()] == [0, 0]


def test_no_gpu_is_an_empty_list_and_no_thread_keeps_running(tmp_path, monkeypatch):
    without_nvml(monkeypatch)
    monkeypatch.setenv("PATH", str(tmp_path))
    sampler = GpuSampler(interval=0.05)
    assert sampled(sampler) == []
    assert sampler._thread is not None
    sampler._thread.join(10)
    assert not sampler._thread.is_alive()


@pytest.mark.parametrize("failure", ["fails", "hangs", "garbles"])
def test_a_failing_gpu_query_is_logged_once_and_answers_no_gpus(
    tmp_path, monkeypatch, caplog, failure
):
    gpus = FakeGpus(tmp_path)
    gpus.break_nvidia_smi(failure)
    without_nvml(monkeypatch)
    monkeypatch.setenv("PATH", str(gpus.bin))
    sampler = GpuSampler(logging.getLogger("test-monitor"), interval=0.05, timeout=0.3)
    with caplog.at_level(logging.WARNING, "test-monitor"):
        assert sampled(sampler) == []
        gpus.wait_for_queries(sampler, sampler.queries + 2)
        assert sampler.readings() == []
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings
    assert "resource monitor shows no GPUs" in warnings[0]


def test_a_hung_nvml_answers_no_gpus_once_its_reading_is_stale(tmp_path, monkeypatch):
    """NVML cannot be interrupted: the sampler's thread waits, requests never do."""
    gpus = FakeGpus(tmp_path)
    fake_nvml(monkeypatch, gpus)
    sampler = GpuSampler(interval=0.05, timeout=0.1)
    assert len(sampled(sampler)) == 2
    gpus.hang_nvml()
    try:
        wait_for(lambda: sampler.readings() == [], 10, "the hung reading to go stale")
    finally:
        gpus.release_nvml()
    gpus.wait_for_queries(sampler, sampler.queries + 1)
    wait_for(lambda: len(sampler.readings()) == 2, 10, "readings again")


@pytest.mark.parametrize("output", ["invalid-utf8", "superscript-index", "infinite-memory"])
def test_any_nvidia_smi_output_leaves_the_sampler_running_and_gpus_come_back(
    tmp_path, monkeypatch, caplog, output
):
    """Garbage from the tool is one log line and no GPUs; once it answers again, GPUs."""
    gpus = FakeGpus(tmp_path)
    gpus.break_nvidia_smi(output)
    without_nvml(monkeypatch)
    monkeypatch.setenv("PATH", str(gpus.bin))
    sampler = GpuSampler(logging.getLogger("test-monitor"), interval=0.05, timeout=2)
    with caplog.at_level(logging.DEBUG, "test-monitor"):
        readings = sampled(sampler)
        gpus.wait_for_queries(sampler, sampler.queries + 2)
    assert sampler._thread is not None
    assert sampler._thread.is_alive()
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    if output == "infinite-memory":  # a reading, with the unknown memory as 0
        assert [g["memoryUsedBytes"] for g in readings] == [0]
    elif output == "invalid-utf8":  # a reading, the undecodable bytes replaced
        assert [g["name"] for g in readings] == ["NVIDIA \ufffd\ufffd"]
    else:
        assert readings == []
    gpus.break_nvidia_smi("ok")
    wait_for(lambda: len(sampler.readings()) == 2, 10, "the GPUs back")
    assert sampler.readings() == gpus.expected(ever_used=[True, False])


def test_the_gpus_are_described_in_one_line(tmp_path, monkeypatch):
    gpus = FakeGpus(tmp_path)
    without_nvml(monkeypatch)
    monkeypatch.setenv("PATH", str(gpus.bin))
    sampler = GpuSampler(interval=0.05)
    assert sampler.describe() == "probing..."
    sampled(sampler)
    assert sampler.describe() == (
        "2 GPU(s) (nvidia-smi): NVIDIA A100-SXM4-80GB, 81920 MiB; NVIDIA L4, 23034 MiB"
    )


def test_nvml_is_named_as_the_source_when_it_answers(tmp_path, monkeypatch):
    gpus = FakeGpus(tmp_path)
    fake_nvml(monkeypatch, gpus)
    sampler = GpuSampler(interval=0.05)
    sampled(sampler)
    assert sampler.describe().startswith("2 GPU(s) (NVML): NVIDIA A100-SXM4-80GB")


def test_no_gpu_tool_is_described_as_none_found(tmp_path, monkeypatch):
    without_nvml(monkeypatch)
    monkeypatch.setenv("PATH", str(tmp_path))
    sampler = GpuSampler(interval=0.05)
    sampled(sampler)
    assert sampler.describe().startswith("none found (no NVML, no nvidia-smi")


@pytest.mark.parametrize(
    ("failure", "said"),
    [("fails", "nvidia-smi exited 9"), ("hangs", "did not answer within 0.3 s")],
)
def test_a_failing_gpu_tool_is_described_with_its_failure(tmp_path, monkeypatch, failure, said):
    gpus = FakeGpus(tmp_path)
    gpus.break_nvidia_smi(failure)
    without_nvml(monkeypatch)
    monkeypatch.setenv("PATH", str(gpus.bin))
    sampler = GpuSampler(interval=0.05, timeout=0.3)
    sampled(sampler)
    assert said in sampler.describe()
