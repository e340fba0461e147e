"""Per-class FIFO memory of recent features for sub-centroid clustering (DNC).

Layout: one ring buffer per class, all in one ``[C, capacity, D]`` tensor, so that the
clustering step reads the memory as a padded batch of classes with no regrouping.
Enqueueing is vectorised (a stable sort by label gives every feature its rank inside its
class; no loop over classes or features).

With ``num_sub_centroids`` given, the memory also carries the state of an incremental
clustering step (see :func:`~hieraseg.models.utils.cluster_memory`): the sub-centroid each
slot was last assigned to, and per (class, sub-centroid) the float64 sum of the correctly
classified features assigned to it. Overwriting a slot takes its feature out of that sum.
"""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

__all__ = ['FeatureMemory', 'class_ranks', 'subsample_per_class']

_DTYPES = {'float32': torch.float32, 'float16': torch.float16, 'bfloat16': torch.bfloat16}


def class_ranks(labels: Tensor, num_classes: int):
    """Rank of every sample inside its class, in order of appearance.

    Args:
        labels (Tensor): ``[N]`` long, values in ``[0, num_classes)``.

    Returns:
        tuple: ``ranks [N]`` (0 for the first sample of a class, 1 for the next, ...)
        and ``counts [num_classes]`` (samples per class).
    """
    counts = torch.bincount(labels, minlength=num_classes)
    order = torch.argsort(labels, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    ranks = torch.empty_like(labels)
    ranks[order] = torch.arange(labels.numel(), device=labels.device) - starts[labels[order]]
    return ranks, counts


def subsample_per_class(labels: Tensor,
                        max_per_class: int,
                        num_classes: int,
                        generator: Optional[torch.Generator] = None) -> Tensor:
    """Indices of at most ``max_per_class`` samples of every class, chosen at random.

    Args:
        labels (Tensor): ``[N]`` long class ids in ``[0, num_classes)``.
        generator (torch.Generator, optional): on ``labels.device``; pass one seeded the
            same way on every rank to get the same choice everywhere.

    Returns:
        Tensor: ``[M]`` long indices into ``labels`` (in a random order).
    """
    perm = torch.randperm(labels.numel(), generator=generator, device=labels.device)
    ranks, _ = class_ranks(labels[perm], num_classes)
    return perm[ranks < max_per_class]


class FeatureMemory(nn.Module):
    """``C`` ring buffers of ``capacity`` features each.

    Args:
        num_classes (int): C.
        capacity (int): entries kept per class (the oldest are overwritten).
        feat_dim (int): D.
        dtype (str | torch.dtype): storage dtype; ``'float16'`` halves the footprint
            (features are unit vectors, so fp16 keeps ~3 significant digits).
        num_sub_centroids (int, optional): K; enables the clustering state.

    Buffers (saved with ``state_dict``):
        features ``[C, capacity, D]``, correct ``[C, capacity]`` bool (was the feature
        correctly classified when it was stored), ptr ``[C]`` (next slot to write),
        count ``[C]`` (filled slots); with K: assignment ``[C, capacity]`` long (-1: none
        yet) and assigned_sums ``[C, K, D]`` float64.
    """

    def __init__(self, num_classes: int, capacity: int, feat_dim: int,
                 dtype='float32', num_sub_centroids: Optional[int] = None):
        super().__init__()
        for name, value in (('num_classes', num_classes), ('capacity', capacity),
                            ('feat_dim', feat_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
        if isinstance(dtype, str):
            if dtype not in _DTYPES:
                raise ValueError(f'dtype must be one of {list(_DTYPES)}, got {dtype!r}')
            dtype = _DTYPES[dtype]
        self.num_classes = num_classes
        self.capacity = capacity
        self.feat_dim = feat_dim
        self.register_buffer('features', torch.zeros(num_classes, capacity, feat_dim,
                                                     dtype=dtype))
        self.register_buffer('correct', torch.zeros(num_classes, capacity, dtype=torch.bool))
        self.register_buffer('ptr', torch.zeros(num_classes, dtype=torch.long))
        self.register_buffer('count', torch.zeros(num_classes, dtype=torch.long))
        self.num_sub_centroids = num_sub_centroids
        if num_sub_centroids is not None:
            if not isinstance(num_sub_centroids, int) or num_sub_centroids < 1:
                raise ValueError(f'num_sub_centroids must be an integer >= 1, got '
                                 f'{num_sub_centroids!r}')
            self.register_buffer(
                'assignment', torch.full((num_classes, capacity), -1, dtype=torch.long))
            self.register_buffer(
                'assigned_sums',
                torch.zeros(num_classes, num_sub_centroids, feat_dim, dtype=torch.float64))

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, capacity={self.capacity}, '
                f'feat_dim={self.feat_dim}, dtype={self.features.dtype}')

    @property
    def valid(self) -> Tensor:
        """``[C, capacity]`` bool: slots that hold a feature (filled from slot 0 on)."""
        slots = torch.arange(self.capacity, device=self.count.device)
        return slots.unsqueeze(0) < self.count.unsqueeze(1)

    def nbytes(self) -> int:
        """Bytes held by the buffers."""
        return sum(b.numel() * b.element_size() for b in self.buffers())

    def reset(self) -> None:
        self.features.zero_()
        self.correct.zero_()
        self.ptr.zero_()
        self.count.zero_()
        if self.num_sub_centroids is not None:
            self.assignment.fill_(-1)
            self.assigned_sums.zero_()

    def move_in_sums(self, classes: Tensor, slots: Tensor, new_k: Optional[Tensor],
                     old_k: Tensor) -> None:
        """Move the features at ``(classes, slots)`` between the clustering sums: add each
        to ``assigned_sums[c, new_k]`` (if ``new_k`` is given) and take it out of
        ``assigned_sums[c, old_k]`` where ``old_k >= 0``. Deterministic: on the CPU
        ``index_add_`` accumulates in index order, on CUDA ``index_put_`` with
        ``accumulate=True`` sorts first (its atomic ``index_add_`` would not be)."""
        dim, num_k = self.feat_dim, self.num_sub_centroids
        rows = self.features.view(-1, dim).index_select(0, classes * self.capacity + slots)
        rows = rows.double()
        was = old_k >= 0
        targets = [(classes[was] * num_k + old_k[was], rows[was], -1.0)]
        if new_k is not None:
            targets.append((classes * num_k + new_k, rows, 1.0))
        sums = self.assigned_sums.view(-1, dim)
        for index, source, sign in targets:
            if sums.device.type == 'cuda':
                sums.index_put_((index, ), source * sign, accumulate=True)
            else:
                sums.index_add_(0, index, source, alpha=sign)

    @torch.no_grad()
    def enqueue(self, features: Tensor, labels: Tensor,
                correct: Optional[Tensor] = None) -> None:
        """Append features to their classes' FIFOs.

        If a class receives more than ``capacity`` features at once, only its last
        ``capacity`` ones (in the given order) are kept: shuffle beforehand (see
        :func:`subsample_per_class`) for a random choice.

        Args:
            features (Tensor): ``[N, D]``.
            labels (Tensor): ``[N]`` class ids in ``[0, C)``.
            correct (Tensor, optional): ``[N]`` bool; None means all correct.

        Raises:
            ValueError: on mismatched shapes or a label outside ``[0, C)``.
        """
        n = labels.numel()
        if features.dim() != 2 or features.shape != (n, self.feat_dim):
            raise ValueError(f'features must be [{n}, {self.feat_dim}], got '
                             f'{tuple(features.shape)}')
        if n == 0:
            return
        labels = labels.reshape(-1).to(device=self.ptr.device, dtype=torch.long)
        if int(labels.min()) < 0 or int(labels.max()) >= self.num_classes:
            raise ValueError(f'labels must lie in [0, {self.num_classes}), got values in '
                             f'[{int(labels.min())}, {int(labels.max())}]')
        if correct is None:
            correct = torch.ones(n, dtype=torch.bool, device=labels.device)
        correct = correct.reshape(-1).to(device=labels.device, dtype=torch.bool)
        if correct.numel() != n:
            raise ValueError(f'correct must have {n} entries, got {correct.numel()}')

        ranks, counts = class_ranks(labels, self.num_classes)
        # Per class, drop all but the newest `capacity` entries of this batch.
        dropped = (counts - self.capacity).clamp(min=0)
        keep = ranks >= dropped[labels]
        labels, ranks = labels[keep], ranks[keep] - dropped[labels[keep]]
        slots = (self.ptr[labels] + ranks) % self.capacity
        if self.num_sub_centroids is not None:
            # Overwritten slots leave the clustering sums they were counted in.
            old = self.assignment[labels, slots]
            old = old.masked_fill(~self.correct[labels, slots], -1)  # only correct ones count
            self.move_in_sums(labels, slots, None, old)
            self.assignment[labels, slots] = -1
        self.features[labels, slots] = features[keep].to(self.features)
        self.correct[labels, slots] = correct[keep]
        added = counts.clamp(max=self.capacity)
        self.ptr.copy_((self.ptr + added) % self.capacity)
        self.count.copy_((self.count + added).clamp(max=self.capacity))
