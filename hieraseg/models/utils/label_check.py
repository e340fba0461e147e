"""The check every head's loss path runs on its labels before they index anything."""
from typing import Optional, Sequence

from torch import Tensor

__all__ = ['check_label_range']


def check_label_range(labels: Tensor, num_classes: int, ignore_index: Optional[int],
                      where: str, data_samples: Optional[Sequence] = None) -> None:
    """Raises a clear error if a label is neither a class id nor ``ignore_index``.

    Without it an out-of-range label surfaces as ``IndexError: Target 9 is out of
    bounds`` from deep inside the loss (or a device-side assert on CUDA), naming neither
    the file nor the classes.

    Args:
        labels (Tensor): ``[B, ...]`` integer labels of a batch (``[B]`` for image
            classification).
        num_classes (int): valid ids are ``0 .. num_classes - 1``.
        ignore_index (int, optional): the id that marks pixels without a label; None where
            there is none.
        where (str): who checks, e.g. the head's class name.
        data_samples (Sequence, optional): the batch's data samples; the first offending
            image's label file (``seg_map_path``) or image (``img_path``) is named.

    Raises:
        ValueError: naming the value, the classes, the ignore index and the file.
    """
    outside = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        outside &= labels != ignore_index
    if not bool(outside.any()):
        return
    per_image = outside.reshape(outside.shape[0], -1).any(dim=1)
    first = int(per_image.nonzero()[0])
    bad = labels[first][outside[first]]
    value = int(bad.min()) if int(bad.min()) < 0 else int(bad.max())
    source = ''
    if data_samples is not None and first < len(data_samples):
        meta = data_samples[first].metainfo
        path = meta.get('seg_map_path') or meta.get('img_path')
        if path:
            source = f' in the labels of {path}'
    ignored = '' if ignore_index is None else f' and is not the ignore index {ignore_index}'
    raise ValueError(f'{where}: label {value}{source} is outside the {num_classes} classes '
                     f'(0..{num_classes - 1}){ignored}')
