"""The feature memories of the :class:`SinkhornClusteringHook`: made for a classifier,
filled from its kept features on all ranks, and their checkpoint form.

Silent: what should be logged comes back as text, and the hook logs it.
"""
import math
from typing import Dict, List, Optional

import torch
from mmengine.dist import get_rank, get_world_size
from torch import Tensor

from hieraseg.models.utils import (FeatureMemory, SubCentroidClassifier, leaf_view,
                                   subsample_per_class)
from hieraseg.utils.dist_rows import all_gather_rows

__all__ = ['new_memory', 'fill_memory', 'memories_state', 'load_memories']


def new_memory(clf: SubCentroidClassifier, size: int, dtype: str) -> FeatureMemory:
    """An empty memory of ``size`` features per class (per leaf of a hierarchical
    classifier), ``[C_0, size, D]`` in ``dtype``, on the classifier's device."""
    memory = FeatureMemory(leaf_view(clf).num_classes, size, clf.feat_dim, dtype=dtype,
                           num_sub_centroids=clf.num_sub_centroids)
    return memory.to(clf.centroids.device)


@torch.no_grad()
def fill_memory(memory: FeatureMemory, clf: SubCentroidClassifier, size: int, seed: int,
                step: int) -> Optional[str]:
    """Moves the classifier's kept features (``[n, D]`` and labels ``[n]``) into
    ``memory``: the non-finite ones and those with labels outside ``[0, C_0)`` dropped, at
    most ``ceil(size / world size)`` per class drawn at random on every rank (seeded by
    ``seed``, ``step`` and the rank), each marked as classified right or not, then those
    of all ranks gathered in rank order and enqueued (every rank gets the same).

    Returns:
        str | None: what was dropped, if anything.
    """
    device = clf.centroids.device
    kept = clf.pop_kept()
    if kept is None:  # still take part in the collectives below
        kept = (torch.zeros(0, clf.feat_dim, device=device),
                torch.zeros(0, dtype=torch.long, device=device))
    feats, labels = kept[0].to(device), kept[1].to(device)

    num_classes = leaf_view(clf).num_classes
    finite = torch.isfinite(feats).all(dim=1)
    in_range = (labels >= 0) & (labels < num_classes)
    good = finite & in_range
    dropped = None
    if not bool(good.all()):
        dropped = (f'dropped {int((~finite).sum())} non-finite features and '
                   f'{int((~in_range).sum())} labels outside [0, {num_classes}) '
                   'before clustering')
        feats, labels = feats[good], labels[good]

    generator = torch.Generator(device=device)
    generator.manual_seed(seed + 1000003 * step + get_rank())
    per_rank = math.ceil(size / get_world_size())
    idx = subsample_per_class(labels, per_rank, num_classes, generator)
    feats, labels = feats[idx], labels[idx]
    correct = clf.correct_embedded(feats, labels) if feats.shape[0] else \
        torch.zeros(0, dtype=torch.bool, device=device)

    feats = all_gather_rows(feats)
    meta = all_gather_rows(torch.stack([labels, correct.long()], dim=1))
    memory.enqueue(feats, meta[:, 0], meta[:, 1].bool())
    return dropped


def memories_state(memories: Dict[str, FeatureMemory]) -> Dict[str, Dict[str, Tensor]]:
    """The checkpoint form: every memory's state dict, on the CPU, by classifier name."""
    return {
        name: {k: v.detach().cpu() for k, v in memory.state_dict().items()}
        for name, memory in memories.items()
    }


def load_memories(memories: Dict[str, FeatureMemory], state: dict) -> List[str]:
    """Loads :func:`memories_state` into ``memories``; a memory missing from ``state`` or
    saved with other buffer shapes stays empty. Returns one text per memory left empty."""
    problems = []
    for name, memory in memories.items():
        saved = state.get(name)
        if saved is None:
            problems.append(f'no saved memory for {name!r}; it starts empty')
            continue
        expected = {k: tuple(v.shape) for k, v in memory.state_dict().items()}
        found = {k: tuple(v.shape) for k, v in saved.items()}
        if found != expected:
            problems.append(f'saved memory of {name!r} has buffers {found}, expected '
                            f'{expected}; it starts empty')
            continue
        memory.load_state_dict(saved)
    return problems
