import pytest
from mmengine.registry import DefaultScope


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
