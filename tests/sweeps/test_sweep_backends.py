"""The same cells on every backend: in-process, two local worker processes, a local Ray instance: same bits."""

import pytest

from ubo.sweeps import Store, run_sweep
from ubo.sweeps.compare import differences
from ubo.sweeps.execute import start_local_ray
from sweep_helpers import tiny_spec

SPEC = dict(name="backends", etas=(0.01, 0.02), steps=20, probes=("stationarity",))   # 4 cells


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    root = tmp_path_factory.mktemp("in_process")
    run_sweep(tiny_spec(**SPEC), root, threads=1, progress=False)
    return Store(root)


def test_two_local_workers_equal_one_process(in_process, tmp_path):
    status = run_sweep(tiny_spec(**SPEC), tmp_path, workers=2, progress=False)
    assert list(status.state) == ["done"] * 4
    assert differences(Store(tmp_path), in_process) == []


def test_local_ray_instance_equals_the_local_backend(in_process, tmp_path):
    ray = pytest.importorskip("ray", reason="the Ray test needs the 'ray' extra (pip install 'ubo-bilevel[ray]')")
    start_local_ray(2, log_to_driver=False, configure_logging=False)
    try:
        status = run_sweep(tiny_spec(**SPEC), tmp_path, backend="ray", progress=False)
    finally:
        ray.shutdown()
    assert list(status.state) == ["done"] * 4
    assert differences(Store(tmp_path), in_process) == []


def test_bad_backend_arguments():
    for kwargs, word in [({"backend": "dask"}, "backend"), ({"workers": 0}, "workers"), ({"threads": 0}, "threads")]:
        with pytest.raises(ValueError, match=word):
            run_sweep(tiny_spec(), "/nonexistent/never-created", progress=False, **kwargs)
