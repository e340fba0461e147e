"""Mixup / CutMix that keep the superpixel maps consistent with the mixed images.

The CAST authors (DeiT recipe, timm's ``Mixup``) mix images and labels only and keep every
image's own superpixels, so after CutMix the pasted rectangle is described by segments of
the image that is no longer there. Here:

* CutMix pastes the other image's superpixels with its pixels; their ids are shifted past
  the receiving map's and the result relabelled contiguous, so a segment never straddles
  the cut and every pasted segment is a (clipped) segment of the pasted image.
* Mixup blends two whole images; no map describes the blend, so the map of the image with
  the larger weight is kept (``lam >= 0.5``: its own, else its partner's).

Both draw their randomness exactly as mmpretrain's ``Mixup`` / ``CutMix`` do (``lam`` from
``np.random.beta``, the partner from ``torch.randperm``), so with the same seeds the images
and scores equal theirs.
"""
from typing import Tuple

import numpy as np
import torch
from mmpretrain.models.utils.batch_augments import CutMix, Mixup

from .superpixels import SuperpixelError


def relabel_batch(maps: torch.Tensor) -> torch.Tensor:
    """Relabels every map of ``maps`` ``[B, H, W]`` to contiguous ids ``0..S_b-1`` (order
    kept), -1 stays -1. Vectorised over the batch: one ``torch.unique``."""
    batch = maps.shape[0]
    valid = maps >= 0
    span = int(maps.max().clamp(min=0)) + 1
    keys = torch.arange(batch, device=maps.device).view(-1, 1, 1) * span + maps.clamp(min=0)
    uniques, inverse = torch.unique(keys[valid], return_inverse=True)
    # first global rank of every sample = number of unique keys of the samples before it
    counts = torch.bincount(uniques // span, minlength=batch)
    starts = torch.cumsum(counts, 0) - counts
    out = torch.full_like(maps, -1)
    sample_of = (keys[valid] // span)
    out[valid] = inverse - starts[sample_of]
    return out


def cutmix_with_superpixels(aug: CutMix, inputs: torch.Tensor, scores: torch.Tensor,
                            maps: torch.Tensor
                            ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """CutMix of ``inputs`` ``[B, C, H, W]``, ``scores`` ``[B, K]`` and ``maps``
    ``[B, H, W]`` (same box, same partner for all three)."""
    lam = np.random.beta(aug.alpha, aug.alpha)
    index = torch.randperm(inputs.size(0))
    (y1, y2, x1, x2), lam = aug.cutmix_bbox_and_lam(inputs.shape[-2:], lam)
    inputs[:, :, y1:y2, x1:x2] = inputs[index, :, y1:y2, x1:x2]
    scores = lam * scores + (1 - lam) * scores[index, :]
    shift = int(maps.max().clamp(min=0)) + 1
    pasted = maps[index, y1:y2, x1:x2]
    maps = maps.clone()
    maps[:, y1:y2, x1:x2] = torch.where(pasted >= 0, pasted + shift, pasted)
    return inputs, scores, relabel_batch(maps)


def mixup_with_superpixels(aug: Mixup, inputs: torch.Tensor, scores: torch.Tensor,
                           maps: torch.Tensor
                           ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mixup of ``inputs`` ``[B, C, H, W]`` and ``scores`` ``[B, K]``; ``maps`` ``[B, H, W]``
    become those of the image with the larger weight."""
    lam = np.random.beta(aug.alpha, aug.alpha)
    index = torch.randperm(inputs.size(0))
    inputs = lam * inputs + (1 - lam) * inputs[index, :]
    scores = lam * scores + (1 - lam) * scores[index, :]
    return inputs, scores, (maps if lam >= 0.5 else maps[index])


def mix_with_superpixels(aug, inputs: torch.Tensor, scores: torch.Tensor, maps: torch.Tensor
                         ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Applies one batch augmentation (``None``: none) to images, scores and maps."""
    if aug is None:
        return inputs, scores.float(), maps
    if type(aug) is CutMix:  # not ResizeMix, a CutMix subclass that mixes otherwise
        return cutmix_with_superpixels(aug, inputs, scores, maps)
    if type(aug) is Mixup:
        return mixup_with_superpixels(aug, inputs, scores, maps)
    raise SuperpixelError(f'{type(aug).__name__} does not say how superpixels mix; CAST '
                          'supports Mixup and CutMix as batch augments')
