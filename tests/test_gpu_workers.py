"""CPU: the worker-to-GPU mapping of the multi-GPU test runs, on fake GPU lists and worker ids."""

import pytest
from gpu_workers import docker_gpus_flag, gpu_for_worker, visible_gpus, worker_count


@pytest.mark.parametrize(
    "env, count, expected",
    [
        (None, 0, []),
        (None, 2, ["0", "1"]),
        ("3,1", 2, ["3", "1"]),
        ("", 4, []),
        ("2, 5 ,7", 8, ["2", "5", "7"]),
        ("0,1,2,3", 2, ["0", "1"]),  # the driver sees fewer than listed
        ("1,-1,3", 4, ["1"]),  # CUDA stops at the first invalid id
        ("GPU-8e2c,GPU-11aa", 2, ["GPU-8e2c", "GPU-11aa"]),
    ],
)
def test_visible_gpus(env, count, expected):
    assert visible_gpus(env, count) == expected


@pytest.mark.parametrize(
    "gpus, requested, expected",
    [(0, None, 0), (1, None, 0), (2, None, 2), (8, None, 8), (8, "4", 4), (8, "1", 0), (2, "", 2), (0, "0", 0)],
)
def test_worker_count(gpus, requested, expected):
    assert worker_count(gpus, requested) == expected


def test_more_workers_than_gpus_is_refused():
    with pytest.raises(ValueError, match="two workers on one GPU"):
        worker_count(2, "3")
    with pytest.raises(ValueError, match=">= 0"):
        worker_count(2, "-1")


def test_each_worker_gets_its_own_gpu():
    gpus = ["4", "6", "7"]
    assigned = [gpu_for_worker(f"gw{i}", gpus) for i in range(3)]
    assert assigned == gpus and len(set(assigned)) == 3
    with pytest.raises(ValueError, match="no GPU of its own"):
        gpu_for_worker("gw3", gpus)
    with pytest.raises(ValueError, match="not an xdist worker id"):
        gpu_for_worker("master", gpus)


@pytest.mark.parametrize(
    "env, expected",
    [
        (None, ["--gpus", "all"]),
        ("", []),
        ("1", ["--gpus", '"device=1"']),
        ("1, 3", ["--gpus", '"device=1,3"']),
        ("2,-1,0", ["--gpus", '"device=2"']),  # CUDA stops at the first invalid id
        ("GPU-8e2c,GPU-11aa", ["--gpus", '"device=GPU-8e2c,GPU-11aa"']),
    ],
)
def test_docker_gpus_flag(env, expected):
    assert docker_gpus_flag(env) == expected
