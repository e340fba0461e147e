import pytest
from mmengine.registry import DefaultScope


@pytest.fixture
def mmseg_scope():
    """Builds registry objects (transforms, models) in mmseg's scope, as mmseg configs do."""
    import mmseg.datasets  # noqa: F401  (registers the transforms)
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield
