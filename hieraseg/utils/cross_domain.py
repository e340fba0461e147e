"""What the cross-domain converters share (tools/dataset_converters/{acdc,idd,
mapillary_v2_to_cityscapes,wilddash2}.py; ``bdd100k.py`` only checks).

Every converter writes one layout, read by ``HieraCityscapesDataset`` with the suffixes of
configs/_base_/datasets/cross_domain/*.py::

    OUT_DIR/images                      a link to the release's image folder
    OUT_DIR/labels/<rel>/<stem>_labelTrainIds.png    Cityscapes train ids, 255 = ignore
    OUT_DIR/val.txt                     one ``<rel>/<stem>`` per line (mmseg's ann_file)

Label files are single-channel PNGs (greyscale or palette: the indices are the values).
A value a converter's table does not know is an error naming the file and the value; a
name read from inside a data file (a JSON's file name) must be a plain file name, so no
output lands outside OUT_DIR.
"""
import os
import os.path as osp
from typing import Dict, Iterable, Mapping, Sequence, Tuple

import numpy as np

from hieraseg.hierarchy.builtin import CITYSCAPES_CLASSES
from . import converters

IGNORE = 255
LABEL_SUFFIX = '_labelTrainIds.png'
SPLIT_FILE = 'val.txt'
TRAIN_ID = {name: index for index, name in enumerate(CITYSCAPES_CLASSES)}


def train_ids_by_name(mapping: Mapping[object, str], what: str) -> Dict[object, int]:
    """``{source id or name: Cityscapes class name or None}`` -> ``{...: train id}`` (None ->
    255); a name that is not one of the 19 classes is a programming error, raised here."""
    table = {}
    for key, name in mapping.items():
        if name is not None and name not in TRAIN_ID:
            raise ValueError(f'{what}: {key!r} maps to {name!r}, not a Cityscapes class')
        table[key] = IGNORE if name is None else TRAIN_ID[name]
    return table


def lookup_table(train_ids: Mapping[int, int]) -> Tuple[np.ndarray, frozenset]:
    """``{source label id: train id}`` -> a 256-entry uint8 lookup table (255 elsewhere) and
    the set of known source ids."""
    table = np.full(256, IGNORE, dtype=np.uint8)
    for source, train_id in train_ids.items():
        table[int(source)] = train_id
    return table, frozenset(int(source) for source in train_ids)


def read_label_ids(path: str) -> np.ndarray:
    """A single-channel label PNG as ``[H, W]`` ids; an RGB image (a colour-coded label) is an
    error naming ``path``."""
    from PIL import Image
    with Image.open(path) as image:
        mode = image.mode
        ids = np.array(image)
    if mode not in ('L', 'P', 'I', 'I;16') or ids.ndim != 2:
        raise ValueError(f'{path}: a {mode} image; expected a single-channel label PNG whose '
                         f'values are label ids (is this the colour-coded label?)')
    return ids


def check_known(ids: np.ndarray, known: Iterable[int], path: str, what: str) -> None:
    """Raises ValueError naming ``path`` and the first id of ``ids`` not in ``known``."""
    values = np.unique(ids)
    unknown = sorted(set(values.tolist()) - set(known))
    if unknown:
        raise ValueError(f'{path}: label id {unknown[0]} is not a {what} label id (unknown '
                         f'ids: {unknown[:10]})')


def map_ids(ids: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Train ids of checked source ids (< 256)."""
    return table[ids.astype(np.int64)]


def plain_file_name(name, source: str, what: str) -> str:
    """``name`` (read from the data file ``source``) if it is a plain file name: no folder,
    no ``..``, not absolute; otherwise ValueError naming the file and the value."""
    if not isinstance(name, str) or not name or name in ('.', '..') or \
            osp.basename(name) != name or '\\' in name or osp.isabs(name):
        raise ValueError(f'{source}: {what} {name!r} is not a plain file name')
    return name


def label_path(out_dir: str, stem: str) -> str:
    """``OUT_DIR/labels/<stem>_labelTrainIds.png`` (``stem`` may hold sub-folders)."""
    return osp.join(out_dir, 'labels', stem + LABEL_SUFFIX)


def save_train_ids(train_ids: np.ndarray, path: str) -> None:
    converters.save_label_png(train_ids.astype(np.uint8), path)


def check_out_dir(raw: str, out_dir: str) -> None:
    """OUT_DIR must not be the release folder or inside it (outputs are added, never mixed
    into a release)."""
    raw_abs, out_abs = osp.realpath(raw), osp.realpath(out_dir)
    if out_abs == raw_abs or out_abs.startswith(raw_abs + os.sep):
        raise ValueError(f'the output folder {out_dir} is (inside) the input folder {raw}; '
                         'give another -o/--out-dir')


def link_images(image_dir: str, out_dir: str) -> None:
    """``OUT_DIR/images`` -> ``image_dir`` (a symlink); an existing ``images`` that is not
    that link is an error."""
    link = osp.join(out_dir, 'images')
    target = osp.abspath(image_dir)
    if osp.islink(link) and osp.realpath(link) == osp.realpath(target):
        return
    if osp.lexists(link):
        raise FileExistsError(f'{link} exists and is not a link to {target}; remove it or '
                              'choose another output folder')
    converters.makedirs(out_dir)
    os.symlink(target, link)


def finish(out_dir: str, image_dir: str, stems: Sequence[str]) -> None:
    """Writes the split file and the image link once every label is written."""
    converters.write_lines(list(stems), osp.join(out_dir, SPLIT_FILE))
    link_images(image_dir, out_dir)
