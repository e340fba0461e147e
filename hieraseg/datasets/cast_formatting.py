"""Packing steps that carry the superpixel map into the data sample (CAST).

After packing, ``data_sample.superpixels`` is an int64 ``[H, W]`` tensor of the image's size
with contiguous ids ``0..S-1``; the CAST data preprocessors pad and batch it.
"""
import torch
from mmpretrain.datasets.transforms import PackInputs
from mmpretrain.registry import TRANSFORMS as PRETRAIN_TRANSFORMS
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS as SEG_TRANSFORMS

from .superpixels import SUPERPIXEL_KEY, check_superpixels


@PRETRAIN_TRANSFORMS.register_module()
class PackCASTInputs(PackInputs):
    """mmpretrain's ``PackInputs`` plus ``data_sample.superpixels`` (int64 ``[H, W]``).

    Raises :class:`~hieraseg.datasets.superpixels.SuperpixelError` if the sample has no map
    (``Superpixels`` missing from the pipeline), if the map's size is not the image's, or if
    the image changed after the map was computed (a transform after ``Superpixels``).
    """

    def transform(self, results: dict) -> dict:
        segments = check_superpixels(results, type(self).__name__, check_unchanged=True)
        packed = super().transform(results)
        packed['data_samples'].set_field(torch.from_numpy(segments), SUPERPIXEL_KEY)
        return packed


@SEG_TRANSFORMS.register_module()
class PackCASTSegInputs(PackSegInputs):
    """mmseg's ``PackSegInputs`` plus ``data_sample.superpixels`` (int64 ``[H, W]``).

    In mmseg pipelines the map follows geometric transforms (``seg_fields``), so only its
    presence and size are checked; errors as :class:`PackCASTInputs`.
    """

    def transform(self, results: dict) -> dict:
        segments = check_superpixels(results, type(self).__name__)
        packed = super().transform(results)
        packed['data_samples'].set_field(torch.from_numpy(segments), SUPERPIXEL_KEY)
        return packed
