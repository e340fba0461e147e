"""Hierarchical segmentation from CAST's per-level assignments."""
from typing import List, Sequence

import torch
from torch import Tensor

__all__ = ['compose_segments', 'compose_token_ids']


def compose_token_ids(num_tokens: int, assignments: Sequence[Tensor]) -> List[Tensor]:
    """Segment id of every level-0 token at every level by argmax composition.

    Args:
        num_tokens (int): N_0, the number of level-0 tokens (superpixel slots).
        assignments (Sequence[Tensor]): ``[B, N_l, N_{l+1}]`` soft assignments,
            ``N_0 = num_tokens``.

    Returns:
        list[Tensor]: ``len(assignments) + 1`` long tensors ``[B, N_0]``; entry 0 is
        ``arange(N_0)``, entry ``l`` holds ids in ``0..N_l-1``.
    """
    if len(assignments) == 0:
        raise ValueError('compose_segments needs at least one assignment')
    B = assignments[0].shape[0]
    ids = [torch.arange(num_tokens, device=assignments[0].device).expand(B, -1)]
    expected = num_tokens
    for level, assign in enumerate(assignments):
        if assign.dim() != 3 or assign.shape[0] != B or assign.shape[1] != expected:
            raise ValueError(
                f'assignment {level} has shape {tuple(assign.shape)}, expected '
                f'[{B}, {expected}, N_{level + 1}] (levels must chain)')
        hard = assign.argmax(dim=-1)  # [B, N_l]
        ids.append(torch.gather(hard, 1, ids[-1]))
        expected = assign.shape[2]
    return ids


def compose_segments(superpixels: Tensor, assignments: Sequence[Tensor]) -> Tensor:
    """Segment id of every pixel at every level.

    Each token goes to its argmax centroid at the next level and the maps compose, so a
    segment of level ``l + 1`` is by construction a union of segments of level ``l``.

    Args:
        superpixels (Tensor): ``[B, H, W]`` long ids ``0..S-1``, ``-1`` = padding.
        assignments (Sequence[Tensor]): ``[B, N_l, N_{l+1}]`` per pooling stage, as
            returned by ``CAST(..., return_assignments=True)``; ``N_0 >= S``.

    Returns:
        Tensor: ``[B, L + 1, H, W]`` long, ``L = len(assignments)``: level 0 is the
        superpixel map itself, level ``l`` holds ids in ``0..N_l-1`` (centroid indices,
        not necessarily all used); padded pixels are ``-1`` at every level.
    """
    if superpixels.dim() != 3:
        raise ValueError(f'superpixels must be [B, H, W], got {tuple(superpixels.shape)}')
    num_tokens = assignments[0].shape[1] if len(assignments) else 0
    if int(superpixels.max()) >= num_tokens:
        raise ValueError(f'superpixel ids go up to {int(superpixels.max())} but the first '
                         f'assignment has only {num_tokens} tokens')
    ids = torch.stack(compose_token_ids(num_tokens, assignments), dim=1)  # [B, L+1, N0]
    B, H, W = superpixels.shape
    flat = superpixels.reshape(B, 1, H * W)
    out = torch.gather(ids, 2, flat.clamp(min=0).expand(-1, ids.shape[1], -1))
    out = out.masked_fill(flat < 0, -1)
    return out.view(B, ids.shape[1], H, W)
