"""A three-level variant of the toy data set, written as a user's own data would be.

Eight leaf classes (a hue and a texture) under four hues under three families::

    background -> background -> background
    warm       -> red        -> red plain, red striped
    cool       -> cyan       -> cyan plain, cyan striped
               -> blue       -> blue plain, blue striped, blue dotted

Cyan and blue lie close on the hue circle, so the middle level is harder than the toy set's
colour level, and the leaves need the texture too. The files use the plain own-data layout
that ``tools/new_config.py`` defaults to -- ``images/<split>/<id>.jpg``,
``labels/<split>/<id>.png`` (single-channel class ids) -- with the hierarchy beside them in
``hierarchy.yaml``, so it is read by :class:`HieraSegDataset` exactly as a user's data set.
Shapes are drawn as in :mod:`.toy_shapes`; generation is deterministic given the seed.
"""
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
from PIL import Image

from .generated_folder import write_generated_dataset
from .toy_shapes import render_sample

MANIFEST = 'toy_shapes_deep.json'
HIERARCHY_FILE = 'hierarchy.yaml'
LEVEL_NAMES = ('texture', 'hue', 'family')
LEAVES = ('background', 'red plain', 'red striped', 'cyan plain', 'cyan striped',
          'blue plain', 'blue striped', 'blue dotted')
_HUES = {'red': (0.0, 0.08), 'cyan': (0.45, 0.53), 'blue': (0.60, 0.68)}
# leaf id -> ((hue low, hue high), texture), as toy_shapes.render_sample takes them
STYLES = {leaf: (_HUES[LEAVES[leaf].split()[0]], LEAVES[leaf].split()[1])
          for leaf in range(1, len(LEAVES))}

HIERARCHY_YAML = """\
# The toy_shapes_deep hierarchy: 8 -> 4 -> 3, levels finest first.
name: toy_shapes_deep
level_names: [texture, hue, family]
classes: [background, red plain, red striped, cyan plain, cyan striped, blue plain,
          blue striped, blue dotted]    # label ids 0..7
groups:
  - background: [background]            # level 2 (hue)
    red: [red plain, red striped]
    cyan: [cyan plain, cyan striped]
    blue: [blue plain, blue striped, blue dotted]
  - background: [background]            # level 3 (family)
    warm: [red]
    cool: [cyan, blue]
"""


def generate_toy_shapes_deep(root: str, num_train: int = 300, num_val: int = 60,
                             size: int = 96, seed: int = 0,
                             leaf_weights: Optional[Sequence[float]] = None) -> Dict:
    """Writes the data set (module docstring) under ``root``; returns its manifest.

    ``leaf_weights``: how often a shape is drawn of each of the seven non-background
    leaves, in label order (default: equally often).

    Idempotent, and whole or not at all (:func:`write_generated_dataset`).

    Raises:
        FileExistsError: ``root`` exists and is not this data set made with these arguments.
    """
    manifest = dict(name='toy_shapes_deep', num_train=num_train, num_val=num_val, size=size,
                    seed=seed, classes=list(LEAVES), layout='images/labels')
    if leaf_weights is not None:
        if len(leaf_weights) != len(LEAVES) - 1 or min(leaf_weights) <= 0:
            raise ValueError(f'leaf_weights: {len(LEAVES) - 1} positive numbers (one per leaf '
                             f'but the background), got {list(leaf_weights)}')
        manifest['leaf_weights'] = [float(w) for w in leaf_weights]

    def write(folder: str) -> None:
        rng = np.random.default_rng(seed)
        for split, count in (('train', num_train), ('val', num_val)):
            img_dir = osp.join(folder, 'images', split)
            seg_dir = osp.join(folder, 'labels', split)
            os.makedirs(img_dir)
            os.makedirs(seg_dir)
            for index in range(count):
                image, labels = render_sample(size, rng, styles=STYLES, weights=leaf_weights)
                stem = f'{split}_{index:05d}'
                Image.fromarray(image).save(osp.join(img_dir, stem + '.jpg'), quality=95)
                Image.fromarray(labels).save(osp.join(seg_dir, stem + '.png'))
        with open(osp.join(folder, HIERARCHY_FILE), 'w') as f:
            f.write(HIERARCHY_YAML)

    return write_generated_dataset(root, manifest, MANIFEST, write)
