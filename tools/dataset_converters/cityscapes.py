"""Convert Cityscapes fine annotations to train ids (19 classes, 255 = ignore).

    python tools/dataset_converters/cityscapes.py RAW_DIR [-o OUT_DIR] [--nproc N]

Input: the Cityscapes release as unpacked from https://www.cityscapes-dataset.com/downloads/
(``gtFine_trainvaltest.zip``, ``leftImg8bit_trainvaltest.zip``)::

    RAW_DIR/leftImg8bit/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    RAW_DIR/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_polygons.json
                                                   (or _gtFine_labelIds.png)

Output (``HieraCityscapesDataset``'s layout, configs/_base_/datasets/hiera_cityscapes.py)::

    OUT_DIR/gtFine/{train,val}/<city>/<name>_gtFine_labelTrainIds.png
    OUT_DIR/train.txt, val.txt      one ``<city>/<name>`` per line (mmseg's split files)
    OUT_DIR/leftImg8bit             a link to RAW_DIR/leftImg8bit when OUT_DIR is elsewhere

OUT_DIR defaults to RAW_DIR, as mmseg's converter does: the new files are added next to the
released ones, and no released file is changed. Train ids come from the ``cityscapesscripts``
package (``pip install cityscapesscripts``, or ``pip install -e .[cityscapes]``): polygons are
drawn with its ``json2labelImg``, ``labelIds`` PNGs mapped with its label table. A frame that
has a polygon file uses it, otherwise its ``labelIds`` PNG.

Every input is checked before anything is written: a frame without an image or without an
annotation (the first one named), a polygon label or a label id the Cityscapes table does not
know (the file and the value named). Outputs are written to a partial name and renamed when
complete; outputs newer than their input are kept, so a second run only converts what
changed.
"""
import argparse
import json
import os
import os.path as osp
import sys

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from hieraseg.utils import converters  # noqa: E402

SPLITS = ('train', 'val')
IMG_SUFFIX = '_leftImg8bit.png'
POLYGONS = '_gtFine_polygons.json'
LABEL_IDS = '_gtFine_labelIds.png'
TRAIN_IDS = '_gtFine_labelTrainIds.png'


def cityscapes_labels():
    """cityscapesscripts' label table, or SystemExit saying how to install it."""
    try:
        from cityscapesscripts.helpers import labels
    except ImportError:
        raise SystemExit('tools/dataset_converters/cityscapes.py needs the cityscapesscripts '
                         'package: pip install cityscapesscripts (or pip install -e '
                         '.[cityscapes] in the hieraseg checkout)') from None
    return labels


def train_id_table():
    """A 256-entry lookup table label id -> train id (255 where the id has none), and the
    set of the table's label ids."""
    labels = cityscapes_labels()
    table = np.full(256, 255, dtype=np.uint8)
    known = set()
    for label in labels.labels:
        if 0 <= label.id < 256:
            known.add(label.id)
            if 0 <= label.trainId < 255:
                table[label.id] = label.trainId
    return table, known


def polygon_label(name: str, name2label) -> str:
    """cityscapesscripts' rule: an unknown ``<label>group`` is drawn as ``<label>``."""
    if name not in name2label and name.endswith('group'):
        name = name[:-len('group')]
    return name


def find_frames(raw: str, split: str):
    """``(<city>/<name>, annotation path)`` for every annotated frame of ``split``, sorted."""
    gt_dir = osp.join(raw, 'gtFine', split)
    frames = {}
    for folder, _, names in os.walk(gt_dir):
        for name in names:
            for suffix in (POLYGONS, LABEL_IDS):
                if name.endswith(suffix):
                    stem = osp.relpath(osp.join(folder, name[:-len(suffix)]), gt_dir)
                    # a polygon file wins over a labelIds PNG
                    if suffix == POLYGONS or stem not in frames:
                        frames[stem] = osp.join(folder, name)
    return sorted(frames.items())


class Converter:
    """Checks and converts one frame (picklable, for ``--nproc``)."""

    def __init__(self, raw: str, out_dir: str, split: str):
        self.raw, self.out_dir, self.split = raw, out_dir, split

    def check(self, frame) -> None:
        """Raises ValueError naming the file and the label it does not know."""
        _, source = frame
        labels = cityscapes_labels()
        if source.endswith(POLYGONS):
            with open(source) as f:
                try:
                    data = json.load(f)
                except ValueError as error:
                    raise ValueError(f'{source}: not valid JSON: {error}') from None
            for key in ('imgHeight', 'imgWidth', 'objects'):
                if key not in data:
                    raise ValueError(f'{source}: no key {key!r}; not a Cityscapes polygon file')
            for index, obj in enumerate(data['objects']):
                name = polygon_label(obj.get('label'), labels.name2label)
                if name not in labels.name2label:
                    raise ValueError(f'{source}: object {index} has the label '
                                     f'{obj.get("label")!r}, which the Cityscapes label table '
                                     f'does not know')
        else:
            from PIL import Image
            _, known = train_id_table()
            with Image.open(source) as image:
                values = np.unique(np.array(image))
            unknown = sorted(set(values.tolist()) - known)
            if unknown:
                raise ValueError(f'{source}: label id {unknown[0]} is not a Cityscapes label '
                                 f'id (unknown ids: {unknown[:10]})')

    def __call__(self, frame) -> None:
        stem, source = frame
        out = osp.join(self.out_dir, 'gtFine', self.split, stem + TRAIN_IDS)
        if converters.is_up_to_date(out, source):
            return
        from PIL import Image
        if source.endswith(POLYGONS):
            from cityscapesscripts.helpers.annotation import Annotation
            from cityscapesscripts.preparation.json2labelImg import createLabelImage
            annotation = Annotation()
            annotation.fromJsonFile(source)
            train_ids = np.array(createLabelImage(annotation, 'trainIds'))
        else:
            table, _ = train_id_table()
            with Image.open(source) as image:
                train_ids = table[np.array(image)]
        converters.save_label_png(train_ids.astype(np.uint8), out)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('raw_dir', help='the Cityscapes folder (with gtFine/, leftImg8bit/)')
    parser.add_argument('-o', '--out-dir', help='output folder (default: RAW_DIR; only new '
                        'files are added there)')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    raw = args.raw_dir
    out_dir = args.out_dir or raw
    cityscapes_labels()  # fail early when the package is missing
    converters.require([osp.join(raw, 'gtFine', s) for s in SPLITS]
                       + [osp.join(raw, 'leftImg8bit', s) for s in SPLITS], 'Cityscapes input')
    frames = {split: find_frames(raw, split) for split in SPLITS}
    for split in SPLITS:
        if not frames[split]:
            raise FileNotFoundError(f'Cityscapes input: no *{POLYGONS} or *{LABEL_IDS} under '
                                    f'{osp.join(raw, "gtFine", split)}')
        converters.require((osp.join(raw, 'leftImg8bit', split, stem + IMG_SUFFIX)
                            for stem, _ in frames[split]), 'an annotated frame has no image')
    every = [(split, frame) for split in SPLITS for frame in frames[split]]
    print(f'checking {len(every)} annotation files')
    for split in SPLITS:
        converters.run(Converter(raw, out_dir, split).check, frames[split], args.nproc)
    for split in SPLITS:
        print(f'\n{split}: {len(frames[split])} frames -> *{TRAIN_IDS}')
        converters.run(Converter(raw, out_dir, split), frames[split], args.nproc)
        converters.write_lines([stem for stem, _ in frames[split]],
                               osp.join(out_dir, f'{split}.txt'))
    images = osp.join(out_dir, 'leftImg8bit')
    if osp.abspath(out_dir) != osp.abspath(raw) and not osp.exists(images):
        os.symlink(osp.abspath(osp.join(raw, 'leftImg8bit')), images)
    print(f'\ndone: {out_dir}')


if __name__ == '__main__':
    main()
