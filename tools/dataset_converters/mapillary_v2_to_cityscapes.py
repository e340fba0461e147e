"""Mapillary Vistas 2.0 labels as the 19 Cityscapes train ids, for the cross-domain test.

    python tools/dataset_converters/mapillary_v2_to_cityscapes.py RAW_DIR -o OUT_DIR
        [--split validation] [--nproc N]

Input: the Mapillary Vistas 2.0 release as tools/dataset_converters/mapillary_v2.py checks it
(``config_v2.0.json``, ``<split>/images/<id>.jpg``, ``<split>/v2.0/labels/<id>.png``: palette
PNGs whose indices are the 124 class ids, in mmseg's ``MapillaryDataset_v2`` order).

Output (hieraseg.utils.cross_domain's layout; configs/_base_/datasets/cross_domain/
mapillary_v2.py)::

    OUT_DIR/labels/<id>_labelTrainIds.png     Cityscapes train ids, 255 = ignore
    OUT_DIR/val.txt                           one <id> per line
    OUT_DIR/images                            a link to RAW_DIR/<split>/images

The mapping (:data:`CITYSCAPES_OF`, by Mapillary class name; the 7 Cityscapes categories
follow from the 19 classes through the 'cityscapes' hierarchy) is ours. It follows the
Cityscapes column of the WildDash 2 unified label policy (``wd2_unified_label_policy.json``
in github.com/ozendelait/wilddash_scripts, which maps Mapillary v1.2 classes to Cityscapes
names: e.g. bike lane, pedestrian area, crosswalk, service lane, road markings, manholes,
potholes and catch basins -> road; curb and curb cut -> sidewalk; other barrier -> wall;
utility poles and sign frames -> pole; only a sign's front is a traffic sign; on rails ->
train) and, for the classes Mapillary 2.0 added, the Cityscapes class definitions
(cityscapes-dataset.com/dataset-overview): a garage is a building, a traffic island is
sidewalk, a person group is person (as Cityscapes draws ``persongroup``); classes without a
clear Cityscapes class (driveway, parking aisle, road shoulder, the new barrier kinds, the
'Lane Marking (only)' classes, ambiguous signs, vehicle groups, ...) and those Cityscapes
does not evaluate (parking, rail track, guard rail, bridge, tunnel, pole group, caravan,
trailer, ...) are ignored (255). "Flattening the Parent Bias" (tum-vision/hierahyp,
preprocess_ood_datasets/label_conversion.json) used Mapillary v1.2 with a narrower table
(e.g. only 'Road', 'Lane Marking - General' and 'Manhole' as road, and no class as fence),
so figures on this split are not theirs.
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import mapillary_v2  # noqa: E402  (the release checks: config, layout)

from hieraseg.utils import converters, cross_domain  # noqa: E402

_LANE_MARKINGS = (
    'Dashed Line', 'Straight Line', 'Zigzag Line', 'Ambiguous', 'Arrow (Left)',
    'Arrow (Other)', 'Arrow (Right)', 'Arrow (Split Left or Straight)',
    'Arrow (Split Right or Straight)', 'Arrow (Straight)', 'Crosswalk', 'Give Way (Row)',
    'Give Way (Single)', 'Hatched (Chevron)', 'Hatched (Diagonal)', 'Other', 'Stop Line',
    'Symbol (Bicycle)', 'Symbol (Other)', 'Text')
_TRAFFIC_LIGHTS = ('General (Single)', 'Pedestrians', 'General (Upright)',
                   'General (Horizontal)', 'Cyclists', 'Other')
# Mapillary Vistas 2.0 class name -> Cityscapes class name; every other class -> ignore.
CITYSCAPES_OF = {
    'Road': 'road', 'Bike Lane': 'road', 'Crosswalk - Plain': 'road',
    'Pedestrian Area': 'road', 'Service Lane': 'road', 'Manhole': 'road',
    'Pothole': 'road', 'Catch Basin': 'road',
    **{f'Lane Marking - {kind}': 'road' for kind in _LANE_MARKINGS},
    'Sidewalk': 'sidewalk', 'Curb': 'sidewalk', 'Curb Cut': 'sidewalk',
    'Traffic Island': 'sidewalk',
    'Building': 'building', 'Garage': 'building',
    'Wall': 'wall', 'Barrier': 'wall',
    'Fence': 'fence',
    'Pole': 'pole', 'Utility Pole': 'pole', 'Traffic Sign Frame': 'pole',
    **{f'Traffic Light - {kind}': 'traffic light' for kind in _TRAFFIC_LIGHTS},
    'Traffic Sign (Front)': 'traffic sign', 'Traffic Sign - Direction (Front)': 'traffic sign',
    'Traffic Sign - Temporary (Front)': 'traffic sign', 'Traffic Sign - Parking': 'traffic sign',
    'Vegetation': 'vegetation', 'Terrain': 'terrain', 'Sky': 'sky',
    'Person': 'person', 'Person Group': 'person',
    'Bicyclist': 'rider', 'Motorcyclist': 'rider', 'Other Rider': 'rider',
    'Car': 'car', 'Truck': 'truck', 'Bus': 'bus', 'On Rails': 'train',
    'Motorcycle': 'motorcycle', 'Bicycle': 'bicycle',
}


def train_id_table():
    """The lookup table class id (0..123) -> train id, and the known ids."""
    from hieraseg.hierarchy import MAPILLARY_V2_CLASSES
    unknown = sorted(set(CITYSCAPES_OF) - set(MAPILLARY_V2_CLASSES))
    if unknown:
        raise ValueError(f'CITYSCAPES_OF names classes Mapillary 2.0 has not: {unknown}')
    by_name = cross_domain.train_ids_by_name(
        {name: CITYSCAPES_OF.get(name) for name in MAPILLARY_V2_CLASSES}, 'CITYSCAPES_OF')
    return cross_domain.lookup_table(
        {index: by_name[name] for index, name in enumerate(MAPILLARY_V2_CLASSES)})


class Converter:
    """Checks and converts one label file (picklable, for ``--nproc``)."""

    def __init__(self, out_dir: str):
        self.out_dir = out_dir

    def read(self, source: str):
        table, known = train_id_table()
        ids = cross_domain.read_label_ids(source)
        cross_domain.check_known(ids, known, source, 'Mapillary Vistas 2.0 class')
        return cross_domain.map_ids(ids, table)

    def check(self, pair) -> None:
        self.read(pair[1])

    def __call__(self, pair) -> None:
        image, source = pair
        out = cross_domain.label_path(self.out_dir, osp.splitext(osp.basename(image))[0])
        if not converters.is_up_to_date(out, source):
            cross_domain.save_train_ids(self.read(source), out)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('raw_dir', help='the Mapillary Vistas folder (with config_v2.0.json)')
    parser.add_argument('-o', '--out-dir', required=True, help='output folder')
    parser.add_argument('--split', default='validation', choices=mapillary_v2.SPLITS,
                        help='which split (default validation)')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    raw, out_dir = args.raw_dir, args.out_dir
    cross_domain.check_out_dir(raw, out_dir)
    converters.require([osp.join(raw, mapillary_v2.CONFIG)] + [
        osp.join(raw, args.split, sub) for sub in ('images', 'v2.0/labels')],
        'Mapillary Vistas 2.0 input')
    mapillary_v2.read_config(osp.join(raw, mapillary_v2.CONFIG))
    pairs = mapillary_v2.find_pairs(raw, args.split)
    if not pairs:
        raise FileNotFoundError(f'Mapillary Vistas 2.0 input: no .jpg in '
                                f'{osp.join(raw, args.split, "images")}')
    converters.require((label for _, label in pairs), f'an image of {args.split} has no label')
    converter = Converter(out_dir)
    print(f'checking {len(pairs)} label files')
    converters.run(converter.check, pairs, args.nproc)
    print(f'\n{args.split}: {len(pairs)} images -> *{cross_domain.LABEL_SUFFIX}')
    converters.run(converter, pairs, args.nproc)
    cross_domain.finish(out_dir, osp.join(raw, args.split, 'images'),
                        [osp.splitext(osp.basename(image))[0] for image, _ in pairs])
    print(f'\ndone: {out_dir} (data_root of configs/_base_/datasets/cross_domain/'
          f'mapillary_v2.py)')


if __name__ == '__main__':
    main()
