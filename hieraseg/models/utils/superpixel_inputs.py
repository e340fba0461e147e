"""Collect the superpixel maps that CAST needs from a batch's data samples."""
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = ['stack_superpixels']


def _as_map(value) -> Tensor:
    if hasattr(value, 'data') and not isinstance(value, Tensor):  # PixelData
        value = value.data
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, Tensor):
        raise ValueError(f'`superpixels` must be a tensor, got {type(value).__name__}')
    if value.dim() == 3 and value.shape[0] == 1:
        value = value[0]
    return value


def stack_superpixels(data_samples: Optional[Sequence], inputs: Tensor) -> Tensor:
    """Stack ``data_samples[i].superpixels`` (``[H, W]`` long, ``-1`` = padding) to a batch.

    Args:
        data_samples (Sequence | None): mmpretrain ``DataSample`` / mmseg
            ``SegDataSample`` objects, as the data preprocessor left them.
        inputs (Tensor): ``[B, 3, H, W]`` the batch's (padded) images.

    Returns:
        Tensor: ``[B, H, W]`` long on the device of ``inputs``.

    Raises:
        ValueError: no data samples, a sample without ``superpixels`` (the pipeline lacks
            the ``Superpixels`` transform), or a map whose size differs from the image.
    """
    hint = ('the data pipeline lacks the `Superpixels` transform (add it before the '
            'packing transform; CAST reads `data_sample.superpixels`)')
    if data_samples is None or len(data_samples) != inputs.shape[0]:
        raise ValueError(f'CAST needs one data sample with `superpixels` per image, got '
                         f'{0 if data_samples is None else len(data_samples)} for '
                         f'{inputs.shape[0]} images: {hint}')
    maps = []
    for i, sample in enumerate(data_samples):
        if 'superpixels' not in sample:
            raise ValueError(f'data sample {i} has no `superpixels` field: {hint}')
        sp = _as_map(sample.superpixels)
        if tuple(sp.shape) != tuple(inputs.shape[-2:]):
            raise ValueError(
                f'data sample {i}: superpixel map size {tuple(sp.shape)} differs from '
                f'the image size {tuple(inputs.shape[-2:])} (the map must be resized, '
                'cropped, flipped and padded with the image)')
        maps.append(sp)
    return torch.stack(maps).to(device=inputs.device, dtype=torch.long)
