"""The cached lookup of ``package::`` config paths answers as mmengine's own."""
import pytest
from mmengine.utils import get_installed_path

from hieraseg.utils import config_index


def test_cached_lookup_equals_mmengine_and_refuses_the_same_paths():
    mmseg = get_installed_path('mmseg')
    name = 'fcn/fcn_r101-d8_4xb2-80k_cityscapes-512x1024.py'  # as the metafiles name it
    assert config_index._cached_cfg_metainfo(mmseg, name) == \
        config_index._ORIGINAL(mmseg, name)
    for lookup in (config_index._cached_cfg_metainfo, config_index._ORIGINAL):
        with pytest.raises(ValueError):  # a _base_ path: mmengine then joins it to the folder
            lookup(mmseg, '_base_/models/fcn_r50-d8')
