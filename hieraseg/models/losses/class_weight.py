"""Per-leaf class weights of the hierarchical losses (``class_weight=...``).

A weight per leaf class weighs every pixel by its leaf's weight, at every level of the
hierarchy: a pixel of weight ``w`` counts as ``w`` pixels. The loss is the weighted mean
over the valid pixels, the weighted sum divided by the sum of the pixels' weights, as
PyTorch's ``F.cross_entropy(weight=...)`` and mmseg's ``CrossEntropyLoss(class_weight=...)``
do: scaling every weight by the same factor changes nothing, and with equal weights the
loss is the unweighted one. :func:`hieraseg.utils.class_weights.balanced_class_weights`
derives weights from the training pixel counts.
"""
import json
import math
import numbers
import os.path as osp
from typing import Mapping, Optional, Sequence, Union

import numpy as np
import torch

from hieraseg.hierarchy import ClassHierarchy

ClassWeightLike = Union[None, str, Sequence[float], Mapping[str, float], np.ndarray,
                        torch.Tensor]


def read_class_weight_file(path: str):
    """The list or ``{leaf name: weight}`` dict in a ``.npy``, ``.json`` or ``.yaml`` file,
    read without running code from it (no pickle: a ``.pkl`` file, which mmseg's
    ``get_class_weight`` would unpickle, is refused)."""
    import yaml
    if not osp.isfile(path):
        raise FileNotFoundError(f'class_weight file {path!r} does not exist')
    extension = osp.splitext(path)[1].lower()
    if extension == '.npy':
        return np.load(path, allow_pickle=False)
    if extension in ('.json', '.yaml', '.yml'):
        with open(path, encoding='utf-8') as f:
            return json.load(f) if extension == '.json' else yaml.safe_load(f)
    raise ValueError(f'class_weight file {path!r}: give a .npy, .json or .yaml file (a '
                     'pickle could run code when read)')


def _as_list(class_weight, hierarchy: ClassHierarchy, what: str) -> list:
    """A list of values in leaf order from a sequence or a ``{leaf name: weight}``
    mapping."""
    leaves = list(hierarchy.classes[0])
    if isinstance(class_weight, Mapping):
        missing = [name for name in leaves if name not in class_weight]
        unknown = [name for name in class_weight if name not in leaves]
        if missing or unknown:
            raise ValueError(f'{what}: class_weight must name every leaf of the hierarchy '
                             f'{hierarchy.name!r} once; missing {missing}, unknown {unknown}')
        return [class_weight[name] for name in leaves]
    if isinstance(class_weight, (np.ndarray, torch.Tensor)):
        class_weight = class_weight.tolist()
    if isinstance(class_weight, (str, bytes)) or not isinstance(class_weight, Sequence):
        raise ValueError(f'{what}: class_weight must be a list of one weight per leaf, a '
                         f'{{leaf name: weight}} dict or a file holding either, got '
                         f'{class_weight!r}')
    if len(class_weight) != len(leaves):
        raise ValueError(f'{what}: class_weight has {len(class_weight)} values; the '
                         f'hierarchy {hierarchy.name!r} has {len(leaves)} leaves {leaves}')
    return list(class_weight)


def load_class_weight(class_weight: ClassWeightLike, hierarchy: ClassHierarchy,
                      what: str) -> Optional[torch.Tensor]:
    """The per-leaf weights ``[C_0]`` (float32) of a loss's ``class_weight`` argument.

    Args:
        class_weight: None (no weighting); one weight per leaf in label order (list,
            tuple, array); a ``{leaf name: weight}`` dict naming every leaf; or, as mmseg
            allows, the path of a ``.npy`` / ``.json`` / ``.yaml`` file holding either
            (relative paths: to the current folder; no pickle files).
        hierarchy: the loss's hierarchy; its leaves are the classes.
        what: the loss's name for error messages.

    Raises:
        ValueError: not one finite weight >= 0 per leaf, or all of them 0.
    """
    if class_weight is None:
        return None
    source = f' (from {class_weight})' if isinstance(class_weight, str) else ''
    if isinstance(class_weight, str):
        class_weight = read_class_weight_file(class_weight)
    values = _as_list(class_weight, hierarchy, what + source)
    for name, value in zip(hierarchy.classes[0], values):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
                not math.isfinite(value) or value < 0:
            raise ValueError(f'{what}{source}: class_weight of {name!r} must be a finite '
                             f'number >= 0, got {value!r}')
    if not any(values):
        raise ValueError(f'{what}{source}: class_weight is 0 for every leaf')
    return torch.tensor([float(v) for v in values], dtype=torch.float32)


def leaf_pixel_weight(class_weight: Optional[torch.Tensor], safe_labels: torch.Tensor,
                      valid: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Per-pixel weights ``[B, H, W]``: the pixel's leaf weight (1 without class weights),
    0 where ignored. The loss is ``sum(weight * term) / weight_total(weight)``.

    Args:
        class_weight: ``[C_0]`` leaf weights, or None.
        safe_labels: ``[B, H, W]`` leaf ids (any id where ``valid`` is False).
        valid: ``[B, H, W]`` bool, the pixels that are not ignored.
        dtype: of the result.
    """
    if class_weight is None:
        return valid.to(dtype)
    return class_weight.to(dtype)[safe_labels] * valid.to(dtype)


def weight_total(pixel_weight: torch.Tensor) -> torch.Tensor:
    """The denominator of the weighted mean: the sum of ``pixel_weight`` (any shape), or 1
    where that is 0 (every valid pixel of a zero-weight class: the weighted sum is 0 too,
    and so is the loss, with a finite gradient)."""
    total = pixel_weight.sum()
    return torch.where(total > 0, total, torch.ones_like(total))
