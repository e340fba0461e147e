"""Superpixels for CAST (Ke, Mo, Yu, ICLR 2024): a pipeline transform that adds a
``[H, W]`` segment-id map to a sample, for mmpretrain and mmseg pipelines.

The map is computed with scikit-image's SLIC. The authors use OpenCV's SEEDS, which lives
in ``cv2.ximgproc`` of the *contrib* build only; ``opencv-contrib-python`` and the
``opencv-python`` that mmcv depends on install the same ``cv2`` module over each other, so
requiring it would break (or silently replace) mmcv's OpenCV. SLIC is a plain wheel
(scikit-image), deterministic, and gives segments of the same kind (compact, colour-coherent,
about ``num_segments`` of them). ``method='seeds'`` is accepted where ``cv2.ximgproc`` is
importable and fails with an explanation otherwise.

Alignment through geometric augmentation:

* mmseg pipelines: the transform appends ``'superpixels'`` to ``results['seg_fields']``, so
  mmseg's ``Resize`` (also inside ``RandomResize``), ``RandomCrop``, ``RandomFlip`` and
  ``RandomRotate`` move the map with the image (nearest interpolation). It may sit anywhere
  after ``LoadImageFromFile``, but after ``RandomRotate`` / ``Pad`` if used (they fill
  uncovered pixels with the seg pad value 255, which would read as a segment id).
* mmpretrain pipelines: ``RandomResizedCrop``, ``RandomFlip`` etc. move ``img`` only. Place
  ``Superpixels`` after every geometric transform, directly before ``PackCASTInputs`` (as the
  authors do: superpixels of the final augmented image). ``PackCASTInputs`` checks that the
  image has not changed since the map was computed and names the problem if it has.

Ids need not stay contiguous through crops; the packers relabel them to ``0..S-1``.
"""
import zlib
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS as PRETRAIN_TRANSFORMS
from mmseg.registry import TRANSFORMS as SEG_TRANSFORMS

SUPERPIXEL_KEY = 'superpixels'
FINGERPRINT_KEY = 'superpixels_img_crc'


class SuperpixelError(ValueError):
    """A sample's superpixel map is missing or does not fit its image."""


def relabel_contiguous(segments: np.ndarray) -> np.ndarray:
    """Maps the ids of ``segments`` ``[H, W]`` (any ints; negative = no segment) onto
    ``0..S-1`` in increasing order of the old id; negative entries become -1. Returns int64."""
    segments = np.asarray(segments)
    out = np.full(segments.shape, -1, dtype=np.int64)
    valid = segments >= 0
    _, inverse = np.unique(segments[valid], return_inverse=True)
    out[valid] = inverse.reshape(-1)
    return out


def image_fingerprint(img: np.ndarray) -> int:
    """A CRC of the image's bytes and shape, to detect that an image changed."""
    img = np.ascontiguousarray(img)
    return zlib.crc32(img.tobytes(), zlib.crc32(repr((img.shape, img.dtype.str)).encode()))


def compute_superpixels(img: np.ndarray,
                        method: str = 'slic',
                        num_segments: int = 196,
                        compactness: float = 10.0,
                        sigma: float = 1.0,
                        max_num_iter: int = 10,
                        channel_order: str = 'bgr') -> np.ndarray:
    """Superpixels of one image.

    Args:
        img: ``[H, W, 3]`` or ``[H, W]`` image, uint8 or float.
        method: ``'slic'`` (scikit-image) or ``'seeds'`` (needs OpenCV contrib).
        num_segments: the number of segments asked for (SLIC returns about as many).
        compactness, sigma, max_num_iter: SLIC's parameters (``max_num_iter`` is SEEDS'
            iteration count for ``'seeds'``).
        channel_order: ``'bgr'`` (mmcv's loading) or ``'rgb'``; SLIC works in Lab colour.

    Returns:
        ``[H, W]`` int32 segment ids, contiguous from 0.
    """
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise SuperpixelError(f'Superpixels needs an [H, W, 3] image, got {img.shape}')
    rgb = img[..., ::-1] if channel_order == 'bgr' else img
    if method == 'slic':
        from skimage.segmentation import slic
        segments = slic(np.ascontiguousarray(rgb), n_segments=num_segments,
                        compactness=compactness, sigma=sigma, max_num_iter=max_num_iter,
                        start_label=0, channel_axis=-1, convert2lab=True)
    elif method == 'seeds':
        import cv2
        if not hasattr(cv2, 'ximgproc'):
            raise SuperpixelError(
                "Superpixels(method='seeds') needs cv2.ximgproc from opencv-contrib-python, "
                "which is not installed (it would replace mmcv's opencv-python); use "
                "method='slic'")
        lab = cv2.cvtColor(np.ascontiguousarray(rgb).astype(np.uint8), cv2.COLOR_RGB2LAB)
        seeds = cv2.ximgproc.createSuperpixelSEEDS(lab.shape[1], lab.shape[0], 3,
                                                   num_segments, 1, 2, 5, False)
        seeds.iterate(lab, max_num_iter)
        segments = seeds.getLabels()
    else:
        raise SuperpixelError(f"Superpixels: method must be 'slic' or 'seeds', got {method!r}")
    return relabel_contiguous(segments).astype(np.int32)


class Superpixels(BaseTransform):
    """Adds ``results['superpixels']``: ``[H, W]`` int32 segment ids of ``results['img']``.

    Required keys: ``img``. Added keys: ``superpixels``, ``superpixels_img_crc`` (the image's
    fingerprint, checked by ``PackCASTInputs``); ``'superpixels'`` is appended to
    ``seg_fields`` (created if absent) so that mmseg's geometric transforms carry it.

    Args:
        method: ``'slic'`` or ``'seeds'`` (module docstring says why SLIC is the default).
        num_segments: segments asked for per image (196 = a 14x14 grid on 224x224, as CAST).
        segment_area: if given, ask for ``round(H * W / segment_area)`` segments instead, for
            images of varying size (256 = CAST's density: 196 segments on 224x224).
        compactness, sigma, max_num_iter: SLIC's parameters.
        channel_order: channel order of ``results['img']`` (``'bgr'`` after mmcv loading).
    """

    def __init__(self,
                 method: str = 'slic',
                 num_segments: int = 196,
                 segment_area: Optional[float] = None,
                 compactness: float = 10.0,
                 sigma: float = 1.0,
                 max_num_iter: int = 10,
                 channel_order: str = 'bgr'):
        if segment_area is not None and segment_area <= 0:
            raise SuperpixelError(f'segment_area must be positive, got {segment_area}')
        self.segment_area = segment_area
        if method not in ('slic', 'seeds'):
            raise SuperpixelError(f"Superpixels: method must be 'slic' or 'seeds', got {method!r}")
        if channel_order not in ('bgr', 'rgb'):
            raise SuperpixelError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
        if num_segments < 1:
            raise SuperpixelError(f'num_segments must be positive, got {num_segments}')
        self.kwargs = dict(method=method, num_segments=num_segments, compactness=compactness,
                           sigma=sigma, max_num_iter=max_num_iter, channel_order=channel_order)

    def transform(self, results: dict) -> dict:
        img = results['img']
        kwargs = self.kwargs
        if self.segment_area is not None:
            count = max(1, round(img.shape[0] * img.shape[1] / self.segment_area))
            kwargs = dict(kwargs, num_segments=count)
        results[SUPERPIXEL_KEY] = compute_superpixels(img, **kwargs)
        results[FINGERPRINT_KEY] = image_fingerprint(img)
        seg_fields = results.setdefault('seg_fields', [])
        if SUPERPIXEL_KEY not in seg_fields:
            seg_fields.append(SUPERPIXEL_KEY)
        return results

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())
        args += f', segment_area={self.segment_area!r}'
        return f'{self.__class__.__name__}({args})'


def check_superpixels(results: dict, where: str, check_unchanged: bool = False) -> np.ndarray:
    """Returns ``results['superpixels']`` relabelled to ``0..S-1`` (int64 ``[H, W]``) after
    checking that it exists and has the image's size (and, with ``check_unchanged``, that the
    image is the one it was computed on). ``where`` names the caller in the errors."""
    img = results.get('img')
    name = results.get('img_path') or results.get('sample_idx', '?')
    if SUPERPIXEL_KEY not in results:
        raise SuperpixelError(
            f"{where}: sample {name} has no 'superpixels' map; add "
            "dict(type='Superpixels', ...) to the pipeline before the packing step")
    segments: Optional[np.ndarray] = results[SUPERPIXEL_KEY]
    if img is not None and tuple(segments.shape[:2]) != tuple(img.shape[:2]):
        raise SuperpixelError(
            f'{where}: sample {name}: superpixel map is {tuple(segments.shape)} but the image '
            f'is {tuple(img.shape[:2])}; a transform changed one without the other')
    if check_unchanged and img is not None and FINGERPRINT_KEY in results \
            and image_fingerprint(img) != results[FINGERPRINT_KEY]:
        raise SuperpixelError(
            f'{where}: sample {name}: the image changed after Superpixels computed its map; '
            'mmpretrain transforms (RandomResizedCrop, RandomFlip, ...) do not move the map, '
            'so place Superpixels after them, directly before PackCASTInputs')
    return relabel_contiguous(segments)


PRETRAIN_TRANSFORMS.register_module(module=Superpixels)
SEG_TRANSFORMS.register_module(module=Superpixels)
