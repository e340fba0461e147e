"""Check a Mapillary Vistas 2.0 download: its layout and its label encoding (no conversion).

    python tools/dataset_converters/mapillary_v2.py RAW_DIR [--nproc N] [--no-palette-check]

Input: the research edition from https://www.mapillary.com/dataset/vistas
(``mapillary-vistas-dataset_public_v2.0.zip``) unpacked as is::

    RAW_DIR/config_v2.0.json                    the 124 labels (readable name, colour)
    RAW_DIR/training/images/<id>.jpg
    RAW_DIR/training/v2.0/labels/<id>.png       palette PNGs whose indices are class ids
    RAW_DIR/validation/images/<id>.jpg
    RAW_DIR/validation/v2.0/labels/<id>.png

``HieraMapillaryDataset_v2`` (configs/_base_/datasets/hiera_mapillary_v2.py, mmseg's layout)
reads these files as they are, so this script writes nothing. It checks, and reports the
first problem with the file named: the folders and ``config_v2.0.json`` exist; the config's
124 readable names are mmseg's ``MapillaryDataset_v2`` classes in the same order (the leaves
of hieraseg's 124 -> 16 -> 4 hierarchy); every image has its label PNG; every label PNG is a
single-channel (palette or greyscale) image of class ids 0..123, not an RGB colour image, and
a palette PNG's colours are the config's colours for the ids it holds (a mismatch means the
indices are not the v2.0 class ids, e.g. a v1.2 label; ``--no-palette-check`` skips this
comparison). Point ``data_root`` at RAW_DIR.
"""
import argparse
import json
import os
import os.path as osp
import sys
from functools import partial

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from hieraseg.utils import converters  # noqa: E402

SPLITS = ('training', 'validation')
CONFIG = 'config_v2.0.json'


def read_config(path: str):
    """The readable names and colours of ``config_v2.0.json``, checked against mmseg's
    ``MapillaryDataset_v2`` classes."""
    from hieraseg.hierarchy import MAPILLARY_V2_CLASSES
    try:
        with open(path) as f:
            labels = json.load(f)['labels']
        names = [label['readable'] for label in labels]
        colours = [tuple(label['color']) for label in labels]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f'{path}: expected {{"labels": [{{"readable": ..., "color": [r, g, '
                         f'b]}}, ...]}} ({type(error).__name__}: {error})') from None
    if len(names) != len(MAPILLARY_V2_CLASSES):
        raise ValueError(f'{path}: {len(names)} labels, Mapillary Vistas 2.0 has '
                         f'{len(MAPILLARY_V2_CLASSES)} (a v1.2 config has 66)')
    for index, (name, expected) in enumerate(zip(names, MAPILLARY_V2_CLASSES)):
        if name != expected:
            raise ValueError(f'{path}: label {index} is {name!r}, mmseg\'s MapillaryDataset_v2 '
                             f'has {expected!r} there')
    return names, colours


def check_label_file(path: str, colours, check_palette: bool = True) -> None:
    """Raises ValueError naming ``path`` if it does not hold v2.0 class ids."""
    from PIL import Image
    with Image.open(path) as image:
        mode = image.mode
        palette = image.getpalette() if mode == 'P' else None
        labels = np.array(image)
    if mode not in ('P', 'L') or labels.ndim != 2:
        raise ValueError(f'{path}: a {mode} image; Mapillary v2.0 labels are palette PNGs '
                         f'whose indices are class ids (is this the colour-coded label?)')
    values = np.unique(labels)
    bad = values[values >= len(colours)]
    if bad.size:
        raise ValueError(f'{path}: label value {int(bad[0])} is outside the {len(colours)} '
                         f'Mapillary v2.0 classes (0..{len(colours) - 1})')
    if palette is not None and check_palette:
        for value in values.tolist():
            colour = tuple(palette[3 * value:3 * value + 3])
            if colour != colours[value]:
                raise ValueError(f'{path}: index {value} has the palette colour {colour}, the '
                                 f'v2.0 config gives class {value} {colours[value]}; the '
                                 f'indices are not v2.0 class ids')


def find_pairs(raw: str, split: str):
    """``(image, label)`` paths of ``split``, by image, sorted."""
    img_dir = osp.join(raw, split, 'images')
    ann_dir = osp.join(raw, split, 'v2.0', 'labels')
    stems = sorted(osp.splitext(name)[0] for name in os.listdir(img_dir)
                   if name.endswith('.jpg'))
    return [(osp.join(img_dir, s + '.jpg'), osp.join(ann_dir, s + '.png')) for s in stems]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('raw_dir', help='the Mapillary Vistas folder (with training/, '
                        'validation/, config_v2.0.json)')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    parser.add_argument('--no-palette-check', action='store_true',
                        help='do not compare the label PNGs\' palette colours with the config')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    raw = args.raw_dir
    converters.require([osp.join(raw, CONFIG)] + [
        osp.join(raw, split, sub) for split in SPLITS for sub in ('images', 'v2.0/labels')],
        'Mapillary Vistas 2.0 input')
    _, colours = read_config(osp.join(raw, CONFIG))
    labels = []
    for split in SPLITS:
        pairs = find_pairs(raw, split)
        if not pairs:
            raise FileNotFoundError(f'Mapillary Vistas 2.0 input: no .jpg in '
                                    f'{osp.join(raw, split, "images")}')
        converters.require((label for _, label in pairs), f'an image of {split} has no label')
        labels += [label for _, label in pairs]
        print(f'{split}: {len(pairs)} images with labels')
    print(f'checking {len(labels)} label files')
    converters.run(partial(check_label_file, colours=colours,
                           check_palette=not args.no_palette_check), labels, args.nproc)
    print(f'\nMapillary Vistas 2.0 in {raw} is ready: data_root={raw!r} '
          f'(nothing was written)')


if __name__ == '__main__':
    main()
