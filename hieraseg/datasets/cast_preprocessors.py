"""Data preprocessors for CAST: the usual ones, plus padding, checking and batch mixing of
the superpixel maps that the packers put into ``data_sample.superpixels``.

After either preprocessor, every data sample's ``superpixels`` is an int64 ``[H, W]``
tensor of the batched (padded) input's size, ids ``0..S-1`` contiguous, -1 where padded.
"""
from typing import List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmseg.models import SegDataPreProcessor
from mmseg.registry import MODELS as SEG_MODELS

from .superpixel_mixing import mix_with_superpixels
from .superpixels import SUPERPIXEL_KEY, SuperpixelError


def collect_superpixels(inputs: Sequence[torch.Tensor], data_samples: Sequence,
                        where: str) -> List[torch.Tensor]:
    """The samples' maps, checked: present, and ``[H, W]`` of their image ``[C, H, W]``."""
    if data_samples is None:
        raise SuperpixelError(f'{where}: no data samples, so no superpixel maps')
    maps = []
    for index, (image, sample) in enumerate(zip(inputs, data_samples)):
        name = sample.metainfo.get('img_path', '')
        if SUPERPIXEL_KEY not in sample:
            raise SuperpixelError(
                f"{where}: sample {index} {name} has no 'superpixels'; the pipeline needs "
                "dict(type='Superpixels') and a CAST packer (PackCASTInputs / PackCASTSegInputs)")
        segments = sample.get(SUPERPIXEL_KEY)
        if tuple(segments.shape) != tuple(image.shape[-2:]):
            raise SuperpixelError(
                f'{where}: sample {index} {name}: superpixel map is {tuple(segments.shape)} '
                f'but its image is {tuple(image.shape[-2:])}')
        maps.append(segments)
    return maps


def pad_superpixels(maps: Sequence[torch.Tensor], size: Sequence[int]) -> torch.Tensor:
    """Pads each ``[h, w]`` map at the bottom / right with -1 to ``size`` (H, W), as mmengine's
    and mmseg's ``stack_batch`` pad images, and stacks them: ``[B, H, W]`` int64."""
    height, width = size
    out = []
    for segments in maps:
        pad_h, pad_w = height - segments.shape[0], width - segments.shape[1]
        if pad_h < 0 or pad_w < 0:
            raise SuperpixelError(f'superpixel map {tuple(segments.shape)} is larger than the '
                                  f'batched input {tuple(size)}')
        out.append(F.pad(segments.long(), (0, pad_w, 0, pad_h), value=-1))
    return torch.stack(out)


def _set_maps(data_samples, maps: torch.Tensor) -> None:
    for sample, segments in zip(data_samples, maps):
        sample.set_field(segments, SUPERPIXEL_KEY)


@PRETRAIN_MODELS.register_module()
class CASTClsDataPreprocessor(ClsDataPreprocessor):
    """mmpretrain's ``ClsDataPreprocessor`` for CAST (arguments as there).

    Pads the superpixel maps with -1 to the batch's input size. ``batch_augments`` (Mixup,
    CutMix, as in the DeiT recipe) are applied to images, scores *and* maps: CutMix pastes the
    other image's segments with its pixels (so no segment straddles the cut), Mixup keeps
    the map of the image with the larger weight (see :mod:`.superpixel_mixing`).
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        images = data['inputs']
        images = list(images) if not isinstance(images, torch.Tensor) else images
        maps = collect_superpixels(images, data.get('data_samples'), type(self).__name__)
        augments, self.batch_augments = self.batch_augments, None
        try:  # mixing is done below, with the maps
            out = super().forward(data, training)
        finally:
            self.batch_augments = augments
        inputs, data_samples = out['inputs'], out['data_samples']
        batch_maps = pad_superpixels(maps, inputs.shape[-2:]).to(inputs.device)
        if training and augments is not None and 'gt_score' in data_samples[0]:
            scores = torch.stack([sample.gt_score for sample in data_samples])
            aug_index = np.random.choice(len(augments.augments), p=augments.probs)
            inputs, scores, batch_maps = mix_with_superpixels(
                augments.augments[aug_index], inputs, scores, batch_maps)
            for sample, score in zip(data_samples, scores):
                sample.set_gt_score(score)
        _set_maps(data_samples, batch_maps)
        return {'inputs': inputs, 'data_samples': data_samples}


@SEG_MODELS.register_module()
class CASTSegDataPreProcessor(SegDataPreProcessor):
    """mmseg's ``SegDataPreProcessor`` for CAST (arguments as there): pads the superpixel
    maps with -1 to the batch's input size, as it pads images and labels. ``batch_augments``
    are not supported (mmseg has none built in)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.batch_augments is not None:
            raise SuperpixelError('CASTSegDataPreProcessor: batch_augments would not move the '
                                  'superpixel maps; they are not supported')

    def forward(self, data: dict, training: bool = False) -> dict:
        maps = collect_superpixels(data['inputs'], data.get('data_samples'),
                                   type(self).__name__)
        out = super().forward(data, training)
        inputs = out['inputs']
        _set_maps(out['data_samples'],
                  pad_superpixels(maps, inputs.shape[-2:]).to(inputs.device))
        return out
