"""Gathering tensors whose first dimension differs from rank to rank."""
import torch
from mmengine.dist import all_gather, get_world_size
from torch import Tensor

__all__ = ['all_gather_rows']


def all_gather_rows(x: Tensor) -> Tensor:
    """Concatenate ``x [n_r, ...]`` of every rank in rank order (``n_r`` may differ);
    ``x`` itself without a process group of more than one rank."""
    if get_world_size() == 1:
        return x
    size = torch.tensor([x.shape[0]], device=x.device, dtype=torch.long)
    sizes = [int(s) for s in all_gather(size)]
    padded = x.new_zeros((max(sizes), ) + tuple(x.shape[1:]))
    padded[:x.shape[0]] = x
    parts = all_gather(padded)
    return torch.cat([p[:n] for p, n in zip(parts, sizes)], dim=0)
