"""Segment pooling: superpixel maps to segment tokens and segment tokens back to pixels.

Both directions go through one matrix ``counts [B, S, h*w]``: how many full-resolution
pixels of superpixel ``s`` fall into feature cell ``j`` of a ``[h, w]`` feature map (each
pixel belongs to the cell ``(y * h // H, x * w // W)``, i.e. the feature map is nearest-
upsampled to the image). A segment token is the mean of the upsampled features over the
segment's pixels (``counts @ feats / area``), exact for segments smaller than a cell; a
feature cell painted back from tokens is the pixel-area-weighted mean of the tokens that
cover it. Pixels with id ``-1`` (padding) count nowhere. No loop over segments or pixels.
"""
from typing import Tuple

import torch
from torch import Tensor

__all__ = [
    'check_superpixels', 'segment_counts', 'segment_pool', 'paint_segments',
    'relabel_superpixels'
]


def check_superpixels(superpixels, img_shape: Tuple[int, int], batch_size: int) -> Tensor:
    """Validate a batch of superpixel maps against the images they belong to.

    Args:
        superpixels (Tensor | None): ``[B, H, W]`` integer ids, ``-1`` = padding.
        img_shape (tuple[int, int]): ``(H, W)`` of the input images.
        batch_size (int): B of the input images.

    Returns:
        Tensor: the map as ``torch.long``.

    Raises:
        ValueError: no map (the pipeline lacks the ``Superpixels`` transform), a map of
            another size or batch than the images, a non-integer map, or an image
            without any superpixel.
    """
    if superpixels is None:
        raise ValueError(
            'CAST needs a superpixel map per image but got none: the data pipeline '
            'lacks the `Superpixels` transform (add it before the packing transform)')
    if superpixels.dim() != 3:
        raise ValueError(f'superpixels must be [B, H, W], got shape '
                         f'{tuple(superpixels.shape)}')
    if superpixels.is_floating_point() or superpixels.dtype == torch.bool:
        raise ValueError(f'superpixels must hold integer ids, got {superpixels.dtype}')
    if tuple(superpixels.shape[-2:]) != tuple(img_shape):
        raise ValueError(
            f'superpixel map size {tuple(superpixels.shape[-2:])} differs from the '
            f'image size {tuple(img_shape)}: resize / crop / flip / pad the map with '
            'the image (the `Superpixels` transform must run before geometric '
            'transforms that know about it)')
    if superpixels.shape[0] != batch_size:
        raise ValueError(f'{superpixels.shape[0]} superpixel maps for {batch_size} images')
    superpixels = superpixels.long()
    empty = superpixels.flatten(1).max(dim=1).values < 0
    if bool(empty.any()):
        raise ValueError(f'images {empty.nonzero().flatten().tolist()} of the batch have '
                         'no superpixel (every id is -1)')
    return superpixels


def segment_counts(superpixels: Tensor, feat_shape: Tuple[int, int],
                   dtype: torch.dtype = torch.float32) -> Tensor:
    """Pixel counts of every (segment, feature cell) pair.

    Args:
        superpixels (Tensor): ``[B, H, W]`` long ids in ``0..S-1``, ``-1`` = padding.
        feat_shape (tuple[int, int]): ``(h, w)`` of the feature map.
        dtype (torch.dtype): of the result.

    Returns:
        Tensor: ``[B, S, h*w]`` with ``S = max id + 1`` over the batch.
    """
    B, H, W = superpixels.shape
    h, w = feat_shape
    device = superpixels.device
    num_seg = int(superpixels.max()) + 1
    ys = torch.arange(H, device=device) * h // H
    xs = torch.arange(W, device=device) * w // W
    cell = (ys[:, None] * w + xs[None, :]).flatten()  # [H*W]
    valid = superpixels.flatten(1) >= 0
    index = superpixels.flatten(1).clamp(min=0) * (h * w) + cell[None]
    counts = torch.zeros(B, num_seg * h * w, dtype=dtype, device=device)
    counts.scatter_add_(1, index, valid.to(dtype))
    return counts.view(B, num_seg, h * w)


def segment_pool(feats: Tensor, superpixels: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Mean of a feature map inside every superpixel.

    Args:
        feats (Tensor): ``[B, C, h, w]`` features (the stem output, positional embedding
            included: pooling is linear, so the mean of ``feat + pos`` is the mean of the
            features plus the mean of the positional embedding).
        superpixels (Tensor): ``[B, H, W]`` long ids, ``-1`` = padding.

    Returns:
        tuple: ``tokens [B, S, C]`` (zeros for ids an image does not have), ``valid
        [B, S]`` bool (the segment has at least one pixel) and ``counts [B, S, h*w]``
        (see :func:`segment_counts`, for :func:`paint_segments`).
    """
    B, C, h, w = feats.shape
    counts = segment_counts(superpixels, (h, w), dtype=feats.dtype)
    area = counts.sum(dim=-1)  # [B, S]
    tokens = torch.bmm(counts, feats.flatten(2).transpose(1, 2))
    tokens = tokens / area.clamp(min=1).unsqueeze(-1)
    return tokens, area > 0, counts


def paint_segments(tokens: Tensor, counts: Tensor, feat_shape: Tuple[int, int]) -> Tensor:
    """Paint segment tokens back onto a feature grid.

    Args:
        tokens (Tensor): ``[B, S, C]``.
        counts (Tensor): ``[B, S, h*w]`` from :func:`segment_pool`.
        feat_shape (tuple[int, int]): ``(h, w)``.

    Returns:
        Tensor: ``[B, C, h, w]``; each cell is the pixel-area-weighted mean of the tokens
        of the segments covering it (zeros where only padding is).
    """
    counts = counts.to(tokens.dtype)
    area = counts.sum(dim=1)  # [B, h*w]
    out = torch.bmm(tokens.transpose(1, 2), counts) / area.clamp(min=1).unsqueeze(1)
    return out.view(tokens.shape[0], tokens.shape[2], *feat_shape)


def relabel_superpixels(superpixels: Tensor) -> Tensor:
    """Make the ids of every map contiguous (``0..S_b-1`` in order), keeping ``-1``.

    Used after cropping a map (sliding-window inference), where only some ids remain.
    Vectorised over the batch: ids are offset per image, ranked by one ``unique`` and
    shifted back by each image's first rank.

    Args:
        superpixels (Tensor): ``[B, H, W]`` long, ``-1`` = padding.

    Returns:
        Tensor: ``[B, H, W]`` long.
    """
    B = superpixels.shape[0]
    span = int(superpixels.max()) + 2
    offset = torch.arange(B, device=superpixels.device).view(B, 1, 1) * span
    keyed = torch.where(superpixels >= 0, superpixels + offset, superpixels.new_tensor(-1))
    uniq, inverse = torch.unique(keyed, return_inverse=True)
    valid_uniq = uniq[uniq >= 0]
    first = torch.searchsorted(valid_uniq, offset.view(B).contiguous())  # [B]
    shift = int((uniq < 0).sum())  # -1 ranks first when present
    out = inverse - shift - first.view(B, 1, 1)
    return torch.where(superpixels >= 0, out, superpixels.new_tensor(-1))
