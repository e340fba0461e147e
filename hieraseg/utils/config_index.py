"""Reading configs that inherit from installed packages' configs (``mmseg::...``) quickly.

For every ``_base_`` entry of the form ``package::path`` mmengine 0.10.7 reads the package's
``.mim/model-index.yml`` and every metafile it lists (over 200 YAML files for mmseg) to look
the path up among the model configs, and only then, for a ``_base_/...`` path, joins it to
the package folder. That costs about 0.4 s per entry, more than a second for most configs
here. :func:`use_cached_model_index` reads each package's index once per process.
hieraseg's tools call it; importing hieraseg does not.
"""
import copy
import functools
import os.path as osp

from mmengine.config import utils as config_utils
from mmengine.fileio import load

__all__ = ['use_cached_model_index']

_ORIGINAL = config_utils._get_cfg_metainfo


@functools.lru_cache(maxsize=None)
def _model_index(package_path: str) -> dict:
    """``{config name: metafile entry}`` of an installed package (the first entry of a
    config that several weights share, as mmengine keeps)."""
    index = {}
    meta_index = load(osp.join(package_path, '.mim', 'model-index.yml'))
    for meta_path in meta_index['Import']:
        for model_cfg in load(osp.join(package_path, '.mim', meta_path))['Models']:
            if 'Config' in model_cfg:
                index.setdefault(model_cfg['Config'].partition('/')[-1], model_cfg)
    return index


def _cached_cfg_metainfo(package_path: str, cfg_path: str) -> dict:
    index = _model_index(package_path)
    if cfg_path not in index:
        raise ValueError(f'{cfg_path} is not a model config of {package_path}')
    return copy.deepcopy(index[cfg_path])


def use_cached_model_index() -> None:
    """Makes mmengine look ``package::`` config paths up in an index read once per package,
    for the rest of the process (same results as mmengine's lookup)."""
    config_utils._get_cfg_metainfo = _cached_cfg_metainfo
