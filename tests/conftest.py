import pytest
from mmengine.registry import DefaultScope

from hieraseg.utils.config_index import use_cached_model_index

use_cached_model_index()  # configs load as in the tools, without re-reading mmseg's index


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
