import os

import pytest
import torch
from mmengine.registry import DefaultScope

from hieraseg.utils.config_index import use_cached_model_index

use_cached_model_index()  # configs load as in the tools, without re-reading mmseg's index

if os.environ.get('PYTEST_XDIST_WORKER'):
    # One pytest worker per core (tools/run_tests.sh): a worker's own torch ops get one thread,
    # as the tools the tests start do (OMP_NUM_THREADS=1); more would oversubscribe the cores.
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def default_scope_of_the_session():
    """Every test starts with the default scope the session had before it: a Runner that one
    test builds (mmseg's or mmpretrain's scope) must not decide which registry a later test
    builds from (pytest-xdist gives each worker another order)."""
    before = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict = before


@pytest.fixture
def mmseg_scope():
    """Builds registry objects (transforms, models) in mmseg's scope, as mmseg configs do."""
    import mmseg.datasets  # noqa: F401  (registers the transforms)
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` are skipped where torch sees no CUDA device."""
    import torch
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason='needs a CUDA device (torch.cuda.is_available() is False)')
    for item in items:
        if item.get_closest_marker('cuda') is not None:
            item.add_marker(skip)


@pytest.fixture
def no_random_init(monkeypatch):
    """Modules are built without filling their weights with random values (the tensors are
    allocated, never initialised): for tests that check that a model builds, not what it
    computes. Filling a ResNet-101 takes over a second on a CPU; building it, 0.1 s."""
    import torch

    def keep(tensor, *args, **kwargs):
        return tensor

    for name in ('uniform_', 'normal_', 'trunc_normal_', 'kaiming_uniform_', 'kaiming_normal_',
                 'xavier_uniform_', 'xavier_normal_', 'constant_', 'ones_', 'zeros_',
                 'orthogonal_'):
        monkeypatch.setattr(torch.nn.init, name, keep)
