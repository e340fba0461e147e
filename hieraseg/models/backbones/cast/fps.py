"""Batched farthest point sampling in (L2-normalised) feature space."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['farthest_point_sampling']


@torch.no_grad()
def farthest_point_sampling(x: Tensor, num_samples: int, valid: Optional[Tensor] = None,
                            normalize: bool = True) -> Tensor:
    """Pick ``num_samples`` tokens per sample, each the farthest from those already picked.

    The first pick is the valid token farthest (squared L2) from the mean of the valid
    tokens; each next pick maximises the distance to its nearest earlier pick. Ties go to
    the lower index, so the result is deterministic. Invalid (padded) tokens and tokens
    already picked are never picked, so the indices of a sample are distinct. Vectorised
    over the batch and the tokens; the loop runs over the picks only.

    Args:
        x (Tensor): ``[B, N, C]`` token features (not differentiated through).
        num_samples (int): K.
        valid (Tensor, optional): ``[B, N]`` bool; None = all valid.
        normalize (bool): L2-normalise the features first (distances are then
            ``2 - 2 cos``). Defaults to True.

    Returns:
        Tensor: ``[B, K]`` long indices into N, in the order picked.

    Raises:
        ValueError: K < 1, or K larger than the number of valid tokens of a sample.
    """
    B, N, _ = x.shape
    if valid is None:
        valid = torch.ones(B, N, dtype=torch.bool, device=x.device)
    num_valid = valid.sum(dim=1)
    if num_samples < 1:
        raise ValueError(f'farthest point sampling needs num_samples >= 1, got {num_samples}')
    if bool((num_valid < num_samples).any()):
        raise ValueError(
            f'{num_samples} clusters requested but a sample has only '
            f'{int(num_valid.min())} tokens (of {N} slots): use fewer clusters or more '
            'superpixels')
    feats = x.detach().float()
    if normalize:
        feats = F.normalize(feats, dim=-1)
    mask = valid.unsqueeze(-1).to(feats.dtype)
    mean = (feats * mask).sum(dim=1, keepdim=True) / num_valid.view(B, 1, 1).to(feats.dtype)
    dist = ((feats - mean)**2).sum(dim=-1).masked_fill(~valid, -1.)
    rows = torch.arange(B, device=x.device)
    picks = torch.empty(B, num_samples, dtype=torch.long, device=x.device)
    nearest = torch.full((B, N), float('inf'), device=x.device).masked_fill(~valid, -1.)
    cur = dist.argmax(dim=1)
    sq_norm = (feats**2).sum(dim=-1)  # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b
    for i in range(num_samples):
        picks[:, i] = cur
        d = sq_norm + sq_norm[rows, cur].unsqueeze(1) - 2 * torch.bmm(
            feats, feats[rows, cur].unsqueeze(-1)).squeeze(-1)
        nearest = torch.minimum(nearest, d)
        nearest = nearest.scatter(1, picks[:, :i + 1], -1.)
        cur = nearest.argmax(dim=1)
    return picks
