"""A small hierarchical segmentation data set that hieraseg generates itself.

Images hold a noisy grey background and a few overlapping rectangles and ellipses. Each
shape's leaf class is a (colour family, texture) pair; the coarse class is the colour
family, a trait every leaf of the family shares:

    background  -> background
    warm        -> warm plain, warm striped            (hues red .. yellow)
    cool        -> cool plain, cool striped, cool dotted (hues cyan .. blue)

So the coarse level is easy (colour) and the fine level needs texture too; a hierarchy helps
because 'striped' alone does not name a class. Files are written in Cityscapes' layout
(``leftImg8bit/<split>/<city>/<id>_leftImg8bit.png`` and
``gtFine/<split>/<city>/<id>_gtFine_labelTrainIds.png``), so mmseg's loading pipeline reads
them as it reads Cityscapes. Generation is deterministic given the seed.

An optional third split, ``val_shifted``, draws the same classes under a domain shift:
stripes and dots of other periods, hues jittered beyond the training ranges, stronger
noise. It comes from its own random stream, so asking for it leaves the other splits
byte-identical.
"""
import colorsys
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from PIL import Image

from hieraseg.hierarchy import TOY_SHAPES_CLASSES
from .generated_folder import write_generated_dataset
from .hierarchy_meta import HierarchyMetaMixin

CITY = 'toyville'
IMG_SUFFIX = '_leftImg8bit.png'
SEG_SUFFIX = '_gtFine_labelTrainIds.png'
MANIFEST = 'toy_shapes.json'

# leaf class -> (hue range in [0, 1), texture)
_LEAF_STYLE = {
    1: ((0.00, 0.14), 'plain'),
    2: ((0.00, 0.14), 'striped'),
    3: ((0.50, 0.66), 'plain'),
    4: ((0.50, 0.66), 'striped'),
    5: ((0.50, 0.66), 'dotted'),
}


# in-domain (training) values and the shifted split's
_STRIPE_PERIODS = {False: (4, 7), True: (7, 10)}
_DOT_PERIODS = {False: (4, 6), True: (6, 8)}
_HUE_JITTER = {False: 0.0, True: 0.05}
_NOISE_STD = {False: 8.0, True: 16.0}


def _texture(kind: str, size: int, rng: np.random.Generator, shifted: bool = False) -> np.ndarray:
    """A [size, size] map in [0, 1] that modulates a shape's brightness."""
    yy, xx = np.mgrid[0:size, 0:size]
    if kind == 'plain':
        return np.ones((size, size))
    if kind == 'striped':
        period = int(rng.integers(*_STRIPE_PERIODS[shifted]))
        coord = xx if rng.random() < 0.5 else yy
        return ((coord + int(rng.integers(period))) % period < period // 2).astype(float)
    period = int(rng.integers(*_DOT_PERIODS[shifted]))  # dotted: dark dots, bright ground
    dots = ((xx % period) < 2) & ((yy % period) < 2)
    return 1.0 - dots.astype(float)


def _shape_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """A random filled rectangle or ellipse, [size, size] bool."""
    yy, xx = np.mgrid[0:size, 0:size]
    h, w = rng.integers(size // 6, size // 2, size=2)
    cy, cx = rng.integers(0, size, size=2)
    if rng.random() < 0.5:
        return (np.abs(yy - cy) <= h / 2) & (np.abs(xx - cx) <= w / 2)
    return ((yy - cy) / (h / 2))**2 + ((xx - cx) / (w / 2))**2 <= 1


def render_sample(size: int, rng: np.random.Generator, shifted: bool = False,
                  styles: Optional[Dict[int, Tuple[Tuple[float, float], str]]] = None,
                  weights: Optional[Sequence[float]] = None) -> Tuple[np.ndarray, np.ndarray]:
    """One image ``[size, size, 3] uint8`` (RGB) and its leaf labels ``[size, size] uint8``;
    ``shifted`` draws it under the shifted split's domain shift. ``styles`` maps the leaf
    ids 1..S (0 is the background) to ``((hue low, hue high), texture)``; default: the toy
    set's five. ``weights``: how often each of the S leaves is drawn (default: equally)."""
    styles = _LEAF_STYLE if styles is None else styles
    image = 128 + 20 * rng.standard_normal((size, size, 1)) * np.ones((1, 1, 3))
    labels = np.zeros((size, size), dtype=np.uint8)
    for _ in range(int(rng.integers(3, 6))):
        if weights is None:
            leaf = int(rng.integers(1, len(styles) + 1))
        else:
            leaf = 1 + int(rng.choice(len(styles), p=np.asarray(weights) / np.sum(weights)))
        (hue_low, hue_high), texture = styles[leaf]
        jitter = _HUE_JITTER[shifted]
        hue = rng.uniform(hue_low - jitter, hue_high + jitter) % 1.0
        bright = np.array(colorsys.hsv_to_rgb(hue, rng.uniform(0.6, 1.0), rng.uniform(0.75, 1)))
        pattern = _texture(texture, size, rng, shifted)[..., None]
        colour = 255 * bright * (0.45 + 0.55 * pattern)
        mask = _shape_mask(size, rng)
        image[mask] = colour[mask]
        labels[mask] = leaf
    image += _NOISE_STD[shifted] * rng.standard_normal(image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), labels


def generate_toy_shapes(root: str,
                        num_train: int = 300,
                        num_val: int = 60,
                        size: int = 64,
                        seed: int = 0,
                        num_val_shifted: int = 0) -> Dict:
    """Writes the data set under ``root`` and returns its manifest.

    ``num_val_shifted`` > 0 adds the ``val_shifted`` split (module docstring).

    Idempotent: if ``root`` already holds a data set made with the same arguments, nothing
    is written. Files appear only when complete (written to a temporary folder first, then
    moved into place).

    Raises:
        FileExistsError: if ``root`` exists and is not a toy data set made with these
            arguments (nothing there is touched).
    """
    manifest = dict(
        name='toy_shapes', num_train=num_train, num_val=num_val, size=size, seed=seed,
        classes=list(TOY_SHAPES_CLASSES), layout='cityscapes')
    if num_val_shifted:
        manifest['num_val_shifted'] = num_val_shifted

    def write(folder: str) -> None:
        rng = np.random.default_rng(seed)
        shifted_rng = np.random.default_rng([seed, 1])
        for split, count in (('train', num_train), ('val', num_val),
                             ('val_shifted', num_val_shifted)):
            if split == 'val_shifted' and not count:
                continue
            img_dir = osp.join(folder, 'leftImg8bit', split, CITY)
            seg_dir = osp.join(folder, 'gtFine', split, CITY)
            os.makedirs(img_dir)
            os.makedirs(seg_dir)
            for index in range(count):
                if split == 'val_shifted':
                    image, labels = render_sample(size, shifted_rng, shifted=True)
                else:
                    image, labels = render_sample(size, rng)
                stem = f'{CITY}_{split}_{index:06d}'
                Image.fromarray(image).save(osp.join(img_dir, stem + IMG_SUFFIX))
                Image.fromarray(labels).save(osp.join(seg_dir, stem + SEG_SUFFIX))

    return write_generated_dataset(root, manifest, MANIFEST, write)


@DATASETS.register_module()
class ToyShapesDataset(HierarchyMetaMixin, BaseSegDataset):
    """The generated toy data set (see :func:`generate_toy_shapes`), Cityscapes layout."""
    METAINFO = dict(
        classes=TOY_SHAPES_CLASSES,
        palette=[[0, 0, 0], [230, 40, 30], [250, 170, 20], [40, 200, 230], [20, 60, 230],
                 [150, 60, 230]],
        hierarchy='toy_shapes')

    def __init__(self, img_suffix=IMG_SUFFIX, seg_map_suffix=SEG_SUFFIX, **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
