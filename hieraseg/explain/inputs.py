"""What the explanation tools read: images, and the test pipeline of a config."""
import copy
import os.path as osp
from typing import List

import numpy as np
from mmengine.config import Config

from hieraseg.utils.config_checks import nested_dataset_cfgs

__all__ = ['read_image', 'test_pipeline_cfg', 'transform_name']


def read_image(path: str, channel_order: str = 'rgb') -> np.ndarray:
    """Decodes an image file to ``[H, W, 3] uint8``; a clear error when it cannot.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not an image that can be decoded.
    """
    import mmcv
    if not osp.exists(path):
        raise FileNotFoundError(f'cannot read image {path!r}: no such file')
    if not osp.isfile(path):
        raise ValueError(f'cannot read image {path!r}: not a file')
    with open(path, 'rb') as f:
        content = f.read()
    reason = f'not a decodable image ({len(content)} bytes)'
    image = None
    try:
        image = mmcv.imfrombytes(content, flag='color', channel_order=channel_order)
    except Exception as error:  # cv2 and pillow raise many kinds
        reason = f'{reason}: {error}'
    if image is None or image.size == 0:
        raise ValueError(f'cannot read image {path!r}: {reason}')
    return image


def test_pipeline_cfg(cfg: Config) -> List[dict]:
    """The test pipeline of a config (test, else val dataloader, else ``test_pipeline``)."""
    for name in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(name)
        if not loader or not isinstance(loader.get('dataset'), dict):
            continue
        for _, dataset in nested_dataset_cfgs(loader['dataset']):
            if dataset.get('pipeline') is not None:
                return copy.deepcopy(list(dataset['pipeline']))
    if cfg.get('test_pipeline') is not None:
        return copy.deepcopy(list(cfg.test_pipeline))
    raise ValueError('the config has no test pipeline (test_dataloader.dataset.pipeline, '
                     'val_dataloader.dataset.pipeline or test_pipeline)')


def transform_name(transform: dict) -> str:
    """The class name of a pipeline step or data set config (``'mmseg.X'`` -> ``'X'``)."""
    name = transform.get('type', '')
    name = name if isinstance(name, str) else getattr(name, '__name__', '')
    return name.split('.')[-1]
