"""IDD (India Driving Dataset) segmentation as the 19 Cityscapes train ids, through IDD's
level-3 ids, for the cross-domain test.

    python tools/dataset_converters/idd.py RAW_DIR -o OUT_DIR [--split val] [--nproc N]

Input: IDD Segmentation (https://idd.insaan.iiit.ac.in/, ``idd-segmentation.tar.gz``) unpacked
as is, in Cityscapes' layout::

    RAW_DIR/leftImg8bit/<split>/<sequence>/<frame>_leftImg8bit.png
    RAW_DIR/gtFine/<split>/<sequence>/<frame>_gtFine_polygons.json
                             (or <frame>_gtFine_labellevel3Ids.png from IDD's createLabels.py)

A polygon file is drawn here (objects in file order, later ones on top, as IDD's and
Cityscapes' ``json2labelImg`` draw them; ``deleted`` objects skipped; a ``<label>group`` of a
label with instances drawn as ``<label>``) with each label's level-3 id from IDD's label table
(:data:`LEVEL3_ID`, AutoNUE/public-code helpers/anue_labels.py); a level-3 PNG is read as is.
Level-3 ids become train ids by :data:`CITYSCAPES_OF_LEVEL3`, the table of "Flattening the
Parent Bias" (CVPR 2024; tum-vision/hierahyp, preprocess_ood_datasets/label_conversion.json,
key "idd"): IDD's level 3 has no terrain and no train of its own (its 'non-drivable
fallback' and 'vehicle fallback' groups hold them with other things), so those two Cityscapes
classes never occur and their IoU is not defined on IDD.

Output (hieraseg.utils.cross_domain's layout; configs/_base_/datasets/cross_domain/idd.py)::

    OUT_DIR/labels/<sequence>/<frame>_labelTrainIds.png
    OUT_DIR/val.txt          ``<sequence>/<frame>`` per line (--split)
    OUT_DIR/images           a link to RAW_DIR/leftImg8bit/<split>

Every input is checked before anything is written: a frame without its image, a polygon file
that is no JSON or lacks ``imgHeight`` / ``imgWidth`` / ``objects``, an unknown label or a
malformed polygon (the file, the object and the value named), a level-3 id outside IDD's.
"""
import argparse
import json
import os
import os.path as osp
import sys

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from hieraseg.utils import converters, cross_domain  # noqa: E402

IMG_SUFFIX = '_leftImg8bit.png'
POLYGONS = '_gtFine_polygons.json'
LEVEL3_PNG = '_gtFine_labellevel3Ids.png'
UNLABELED = 255  # IDD's level-3 id of its void labels
# IDD label name -> level-3 id (anue_labels.py); the labels with instances may be grouped.
LEVEL3_ID = {
    'road': 0, 'parking': 1, 'drivable fallback': 1, 'sidewalk': 2, 'rail track': 3,
    'non-drivable fallback': 3, 'person': 4, 'animal': 4, 'rider': 5, 'motorcycle': 6,
    'bicycle': 7, 'autorickshaw': 8, 'car': 9, 'truck': 10, 'bus': 11, 'caravan': 12,
    'trailer': 12, 'train': 12, 'vehicle fallback': 12, 'curb': 13, 'wall': 14, 'fence': 15,
    'guard rail': 16, 'billboard': 17, 'traffic sign': 18, 'traffic light': 19, 'pole': 20,
    'polegroup': 20, 'obs-str-bar-fallback': 21, 'building': 22, 'bridge': 23, 'tunnel': 23,
    'vegetation': 24, 'sky': 25, 'fallback background': 25, 'unlabeled': UNLABELED,
    'ego vehicle': UNLABELED, 'rectification border': UNLABELED, 'out of roi': UNLABELED,
    'license plate': UNLABELED,
}
HAS_INSTANCES = frozenset((
    'person', 'animal', 'rider', 'motorcycle', 'bicycle', 'autorickshaw', 'car', 'truck', 'bus',
    'caravan', 'trailer', 'train', 'vehicle fallback'))
# level-3 id -> Cityscapes class (hierahyp's "idd" table); other level-3 ids -> ignore
CITYSCAPES_OF_LEVEL3 = {
    0: 'road', 2: 'sidewalk', 22: 'building', 14: 'wall', 15: 'fence', 20: 'pole',
    19: 'traffic light', 18: 'traffic sign', 24: 'vegetation', 25: 'sky', 4: 'person',
    5: 'rider', 9: 'car', 10: 'truck', 11: 'bus', 6: 'motorcycle', 7: 'bicycle',
}


def train_id_table():
    """Lookup table level-3 id -> train id, and the known level-3 ids (0..25, 255)."""
    level3_ids = sorted(set(LEVEL3_ID.values()))
    by_id = cross_domain.train_ids_by_name(
        {level3: CITYSCAPES_OF_LEVEL3.get(level3) for level3 in level3_ids},
        'CITYSCAPES_OF_LEVEL3')
    return cross_domain.lookup_table(by_id)


def label_name(name, source: str, index: int) -> str:
    """IDD's rule: an unknown ``<label>group`` of a label with instances is ``<label>``."""
    if isinstance(name, str) and name not in LEVEL3_ID and name.endswith('group') \
            and name[:-len('group')] in HAS_INSTANCES:
        name = name[:-len('group')]
    if name not in LEVEL3_ID:
        raise ValueError(f'{source}: object {index} has the label {name!r}, which IDD\'s '
                         'label table does not know')
    return name


def read_polygons(source: str):
    """``(height, width, [(level-3 id, [(x, y), ...]), ...])`` of a polygon file, checked."""
    with open(source) as f:
        try:
            data = json.load(f)
        except ValueError as error:
            raise ValueError(f'{source}: not valid JSON: {error}') from None
    if not isinstance(data, dict):
        raise ValueError(f'{source}: expected a JSON object; not an IDD polygon file')
    for key in ('imgHeight', 'imgWidth', 'objects'):
        if key not in data:
            raise ValueError(f'{source}: no key {key!r}; not an IDD polygon file')
    height, width = data['imgHeight'], data['imgWidth']
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 65535
               for v in (height, width)):
        raise ValueError(f'{source}: imgHeight / imgWidth {height!r} / {width!r} are not '
                         'image sizes')
    shapes = []
    for index, obj in enumerate(data['objects']):
        if not isinstance(obj, dict):
            raise ValueError(f'{source}: object {index} is not a JSON object')
        if obj.get('deleted'):
            continue
        name = label_name(obj.get('label'), source, index)
        polygon = obj.get('polygon')
        try:
            points = [(float(x), float(y)) for x, y in polygon]
        except (TypeError, ValueError):
            raise ValueError(f'{source}: object {index} ({name!r}) has no polygon of [x, y] '
                             f'points: {str(polygon)[:80]}') from None
        if points and not np.isfinite(np.asarray(points)).all():
            raise ValueError(f'{source}: object {index} ({name!r}) has a non-finite point')
        shapes.append((LEVEL3_ID[name], points))
    return height, width, shapes


def draw_level3(height: int, width: int, shapes) -> np.ndarray:
    """``[H, W]`` level-3 ids: unlabeled, then every polygon in order."""
    from PIL import Image, ImageDraw
    image = Image.new('L', (width, height), UNLABELED)
    drawer = ImageDraw.Draw(image)
    for level3, points in shapes:
        if len(points) >= 2:  # a single point covers no area
            drawer.polygon(points, fill=level3)
    return np.array(image)


def find_frames(raw: str, split: str):
    """``(<sequence>/<frame>, annotation path)`` per annotated frame, sorted; a polygon file
    wins over a level-3 PNG."""
    gt_dir = osp.join(raw, 'gtFine', split)
    frames = {}
    for folder, _, names in os.walk(gt_dir):
        for name in names:
            for suffix in (POLYGONS, LEVEL3_PNG):
                if name.endswith(suffix):
                    stem = osp.relpath(osp.join(folder, name[:-len(suffix)]), gt_dir)
                    stem = stem.replace(os.sep, '/')
                    if suffix == POLYGONS or stem not in frames:
                        frames[stem] = osp.join(folder, name)
    return sorted(frames.items())


class Converter:
    """Checks and converts one frame (picklable, for ``--nproc``)."""

    def __init__(self, out_dir: str):
        self.out_dir = out_dir

    def level3(self, source: str) -> np.ndarray:
        if source.endswith(POLYGONS):
            return draw_level3(*read_polygons(source))
        ids = cross_domain.read_label_ids(source)
        cross_domain.check_known(ids, set(LEVEL3_ID.values()), source, 'IDD level-3')
        return ids

    def check(self, frame) -> None:
        source = frame[1]
        if source.endswith(POLYGONS):
            read_polygons(source)
        else:
            self.level3(source)

    def __call__(self, frame) -> None:
        stem, source = frame
        out = cross_domain.label_path(self.out_dir, stem)
        if not converters.is_up_to_date(out, source):
            table, _ = train_id_table()
            cross_domain.save_train_ids(cross_domain.map_ids(self.level3(source), table), out)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('raw_dir', help='the IDD folder (with leftImg8bit/, gtFine/)')
    parser.add_argument('-o', '--out-dir', required=True, help='output folder')
    parser.add_argument('--split', default='val', choices=('train', 'val'),
                        help='which split (default val)')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    raw, out_dir = args.raw_dir, args.out_dir
    cross_domain.check_out_dir(raw, out_dir)
    converters.require([osp.join(raw, 'gtFine', args.split),
                        osp.join(raw, 'leftImg8bit', args.split)], 'IDD input')
    frames = find_frames(raw, args.split)
    if not frames:
        raise FileNotFoundError(f'IDD input: no *{POLYGONS} or *{LEVEL3_PNG} under '
                                f'{osp.join(raw, "gtFine", args.split)}')
    image_dir = osp.join(raw, 'leftImg8bit', args.split)
    converters.require((osp.join(image_dir, stem + IMG_SUFFIX) for stem, _ in frames),
                       'an annotated IDD frame has no image')
    converter = Converter(out_dir)
    print(f'checking {len(frames)} annotation files')
    converters.run(converter.check, frames, args.nproc)
    print(f'\n{args.split}: {len(frames)} frames -> *{cross_domain.LABEL_SUFFIX}')
    converters.run(converter, frames, args.nproc)
    cross_domain.finish(out_dir, image_dir, [stem for stem, _ in frames])
    print(f'\ndone: {out_dir} (data_root of configs/_base_/datasets/cross_domain/idd.py)')


if __name__ == '__main__':
    main()
