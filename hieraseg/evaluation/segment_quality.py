"""How well unsupervised segments match ground-truth objects (CAST, issue #14, item 6a).

The measure: for every ground-truth object mask, the IoU of the best-matching segment
(``max_s |M & S| / |M | S|``), averaged over objects: the mean best-match IoU. It is 1 when
one segment is exactly the object, and it rewards neither over-segmentation (a segment
smaller than the object has a lower IoU) nor under-segmentation (a larger one too).

Also here: k-means over patch tokens, to turn a ViT's patch features into segments of the
same number as a CAST level (the baseline of the comparison).
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F


def best_match_iou(mask: torch.Tensor, segments: torch.Tensor) -> float:
    """IoU of the segment of ``segments`` ``[H, W]`` (ids >= 0; negative = no segment) that
    best matches ``mask`` ``[H, W]`` bool. Vectorised: two bincounts."""
    if mask.shape != segments.shape:
        raise ValueError(f'mask {tuple(mask.shape)} and segments {tuple(segments.shape)} '
                         'differ in size')
    mask = mask.bool()
    valid = segments >= 0
    ids = segments[valid].long()
    if ids.numel() == 0 or not mask.any():
        return 0.0
    length = int(ids.max()) + 1
    sizes = torch.bincount(ids, minlength=length).double()
    inter = torch.bincount(ids, weights=mask[valid].double(), minlength=length)
    union = sizes + mask.sum().double() - inter
    return float((inter / union).max())


def superpixel_ceiling_iou(mask: torch.Tensor, segments: torch.Tensor) -> float:
    """IoU of ``mask`` with the union of the segments that lie mostly (> 50 %) inside it:
    the best an exact grouping of these segments could reach (their boundary adherence)."""
    mask = mask.bool()
    valid = segments >= 0
    ids = segments[valid].long()
    if ids.numel() == 0 or not mask.any():
        return 0.0
    sizes = torch.bincount(ids).double()
    inter = torch.bincount(ids, weights=mask[valid].double(), minlength=len(sizes))
    chosen = inter > sizes / 2
    covered = inter[chosen].sum()
    union = mask.sum().double() + sizes[chosen].sum() - covered
    return float(covered / union)


def mean_best_match_iou(masks: Sequence[torch.Tensor],
                        segments: Sequence[torch.Tensor]) -> float:
    """Mean of :func:`best_match_iou` over pairs of masks and segment maps."""
    if len(masks) != len(segments) or not masks:
        raise ValueError(f'{len(masks)} masks and {len(segments)} segment maps')
    return sum(best_match_iou(m, s) for m, s in zip(masks, segments)) / len(masks)


def kmeans(features: torch.Tensor, num_clusters: int, num_iters: int = 30,
           generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Batched k-means (k-means++ seeding, Lloyd iterations, cosine geometry: features are
    L2-normalised) of ``features`` ``[B, N, C]``; returns labels ``[B, N]`` in ``0..k-1``.

    Raises:
        ValueError: if ``num_clusters`` exceeds the ``N`` points.
    """
    batch, num, _ = features.shape
    if not 1 <= num_clusters <= num:
        raise ValueError(f'kmeans: {num_clusters} clusters asked of {num} points')
    x = F.normalize(features.float(), dim=-1)
    rows = torch.arange(batch)
    first = torch.randint(num, (batch, ), generator=generator)
    centres = [x[rows, first]]
    dist = (x - centres[0][:, None]).pow(2).sum(-1)  # [B, N] to the nearest centre
    for _ in range(1, num_clusters):
        probs = dist.clamp(min=0) + 1e-12
        pick = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        centres.append(x[rows, pick])
        dist = torch.minimum(dist, (x - centres[-1][:, None]).pow(2).sum(-1))
    centres = torch.stack(centres, 1)  # [B, k, C]
    for _ in range(num_iters):
        labels = torch.cdist(x, centres).argmin(-1)  # [B, N]
        onehot = F.one_hot(labels, num_clusters).float()  # [B, N, k]
        counts = onehot.sum(1)  # [B, k]
        sums = onehot.transpose(1, 2) @ x  # [B, k, C]
        keep = counts == 0  # an empty cluster keeps its centre
        centres = torch.where(keep[..., None], centres, sums / counts.clamp(min=1)[..., None])
    return torch.cdist(x, centres).argmin(-1)


def patch_segments(labels: torch.Tensor, grid: Sequence[int],
                   size: Sequence[int]) -> torch.Tensor:
    """Patch labels ``[B, h * w]`` on a ``grid`` (h, w) as pixel segments ``[B, H, W]``
    (``size``), nearest upsampling."""
    maps = labels.view(labels.shape[0], 1, *grid).float()
    return F.interpolate(maps, size=tuple(size), mode='nearest')[:, 0].long()
