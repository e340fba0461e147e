"""WildDash 2 panoptic labels as the 19 Cityscapes train ids, for the cross-domain test.

    python tools/dataset_converters/wilddash2.py RAW_DIR -o OUT_DIR [--list FILE] [--nproc N]

Input: the WildDash 2 public release (https://wilddash.cc, ``wd_public_v2p0.zip``) unpacked
as is, COCO panoptic format::

    RAW_DIR/panoptic.json          images, annotations (segments_info) and the 81 categories
    RAW_DIR/panoptic/<name>.png    RGB segment ids (id = R + 256 G + 256^2 B; 0 = void)
    RAW_DIR/images/<name>.jpg

``--list FILE`` keeps only the images named in FILE (one name per line, with or without
``.jpg``), e.g. the validation list of "Flattening the Parent Bias"
(tum-vision/hierahyp, preprocess_ood_datasets/validation.txt); by default every annotated
image is converted.

Each pixel gets its segment's category; categories become Cityscapes train ids by the
``cs_name`` column of WildDash 2's own unified label policy (``wd2_unified_label_policy.json``,
github.com/ozendelait/wilddash_scripts; :data:`CITYSCAPES_OF`): e.g. van -> car, pickup ->
truck, road marking, manhole, pothole, bike lane, pedestrian area, crosswalks, catch basin,
service lane and tram track -> road, curb, curb cut, bike lane on a sidewalk and manhole on a
sidewalk -> sidewalk, curb on terrain -> terrain, other barrier -> wall, sign frames and
utility poles -> pole, motorcyclist / bicyclist / other rider -> rider, autorickshaw ->
motorcycle, on rails -> train; classes whose Cityscapes name is not one of the 19 (static,
dynamic, ground, ego vehicle, parking, rail track, guard rail, pole group, caravan, ...) and
void pixels -> 255. It is the table hierahyp's label_conversion.json ("wilddash") holds.

Output (hieraseg.utils.cross_domain's layout; configs/_base_/datasets/cross_domain/
wilddash2.py)::

    OUT_DIR/labels/<name>_labelTrainIds.png
    OUT_DIR/val.txt          one <name> per line
    OUT_DIR/images           a link to RAW_DIR/images

Every input is checked before anything is written: ``panoptic.json`` (valid JSON, its
categories are WildDash 2's, by id and name), every file name in it (a plain file name: no
folder, so nothing is read or written outside the release and OUT_DIR), every annotation's
image and PNG, every segment's category, and every PNG's segment ids (an id that no segment
lists is an error naming the file and the id).
"""
import argparse
import json
import os.path as osp
import sys

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from hieraseg.utils import converters, cross_domain  # noqa: E402

# WildDash 2's categories by id (the "wd2" list of wd2_unified_label_policy.json)
WD2_CATEGORIES = (
    'unlabeled', 'egovehicle', 'overlay', 'outofroi', 'static', 'dynamic', 'ground', 'road',
    'sidewalk', 'parking', 'railtrack', 'building', 'wall', 'fence', 'guardrail', 'bridge',
    'tunnel', 'pole', 'polegroup', 'trafficlight', 'trafficsign', 'vegetation', 'terrain',
    'sky', 'person', 'rider', 'car', 'truck', 'bus', 'caravan', 'trailer', 'onrails',
    'motorcycle', 'bicycle', 'pickup', 'van', 'billboard', 'streetlight', 'roadmarking',
    'junctionbox', 'mailbox', 'manhole', 'phonebooth', 'pothole', 'bikerack',
    'trafficsignframe', 'utilitypole', 'motorcyclist', 'bicyclist', 'otherrider', 'bird',
    'groundanimal', 'curb', 'trafficsignany', 'trafficsignback', 'trashcan', 'otherbarrier',
    'othervehicle', 'autorickshaw', 'bench', 'mountain', 'tramtrack', 'wheeledslow', 'boat',
    'bikelane', 'bikelanesidewalk', 'banner', 'dashcammount', 'water', 'sand',
    'pedestrianarea', 'firehydrant', 'cctvcamera', 'snow', 'catchbasin', 'crosswalkplain',
    'crosswalkzebra', 'manholesidewalk', 'curbterrain', 'servicelane', 'curbcut')
# WildDash 2 category -> Cityscapes class (the policy's cs_name, where it is one of the 19;
# its 'on rails' is Cityscapes' train); the others -> ignore
CITYSCAPES_OF = {
    'road': 'road', 'roadmarking': 'road', 'manhole': 'road', 'pothole': 'road',
    'tramtrack': 'road', 'bikelane': 'road', 'pedestrianarea': 'road', 'catchbasin': 'road',
    'crosswalkplain': 'road', 'crosswalkzebra': 'road', 'servicelane': 'road',
    'sidewalk': 'sidewalk', 'curb': 'sidewalk', 'bikelanesidewalk': 'sidewalk',
    'manholesidewalk': 'sidewalk', 'curbcut': 'sidewalk',
    'building': 'building', 'wall': 'wall', 'otherbarrier': 'wall', 'fence': 'fence',
    'pole': 'pole', 'trafficsignframe': 'pole', 'utilitypole': 'pole',
    'trafficlight': 'traffic light', 'trafficsign': 'traffic sign',
    'vegetation': 'vegetation', 'terrain': 'terrain', 'curbterrain': 'terrain', 'sky': 'sky',
    'person': 'person', 'rider': 'rider', 'motorcyclist': 'rider', 'bicyclist': 'rider',
    'otherrider': 'rider', 'car': 'car', 'van': 'car', 'truck': 'truck', 'pickup': 'truck',
    'bus': 'bus', 'onrails': 'train', 'motorcycle': 'motorcycle',
    'autorickshaw': 'motorcycle', 'bicycle': 'bicycle',
}
JSON_FILE = 'panoptic.json'


def category_train_ids():
    """``{category id: train id}`` of WildDash 2's 81 categories."""
    return cross_domain.train_ids_by_name(
        {index: CITYSCAPES_OF.get(name) for index, name in enumerate(WD2_CATEGORIES)},
        'CITYSCAPES_OF')


def _require_keys(item, keys, source: str, what: str):
    if not isinstance(item, dict) or any(key not in item for key in keys):
        raise ValueError(f'{source}: {what} must be an object with {list(keys)}, got '
                         f'{str(item)[:100]}')


def read_panoptic_json(raw: str, wanted=None):
    """``[(image stem, panoptic PNG path, {segment id: train id}), ...]`` from
    ``panoptic.json``, every name and category checked; only images in ``wanted`` (stems)
    if given."""
    source = osp.join(raw, JSON_FILE)
    with open(source) as f:
        try:
            data = json.load(f)
        except ValueError as error:
            raise ValueError(f'{source}: not valid JSON: {error}') from None
    _require_keys(data, ('images', 'annotations', 'categories'), source, 'the file')
    for category in data['categories']:
        _require_keys(category, ('id', 'name'), source, 'a category')
        cid, name = category['id'], category['name']
        if not isinstance(cid, int) or not 0 <= cid < len(WD2_CATEGORIES) or \
                WD2_CATEGORIES[cid] != name:
            raise ValueError(f'{source}: category {cid!r} {name!r} is not a WildDash 2 '
                             f'category (is this WildDash 2 v2.0?)')
    train_ids = category_train_ids()
    images = {}
    for image in data['images']:
        _require_keys(image, ('id', 'file_name'), source, 'an image')
        images[image['id']] = cross_domain.plain_file_name(image['file_name'], source,
                                                           'image file_name')
    frames = []
    for annotation in data['annotations']:
        _require_keys(annotation, ('image_id', 'file_name', 'segments_info'), source,
                      'an annotation')
        if annotation['image_id'] not in images:
            raise ValueError(f'{source}: annotation {annotation["file_name"]!r} refers to '
                             f'image id {annotation["image_id"]!r}, which is not listed')
        stem = osp.splitext(images[annotation['image_id']])[0]
        if wanted is not None and stem not in wanted:
            continue
        png = cross_domain.plain_file_name(annotation['file_name'], source,
                                           'annotation file_name')
        segments = {}
        for segment in annotation['segments_info']:
            _require_keys(segment, ('id', 'category_id'), source, f'a segment of {png}')
            if segment['category_id'] not in train_ids:
                raise ValueError(f'{source}: a segment of {png} has category '
                                 f'{segment["category_id"]!r}, not a WildDash 2 category')
            segments[int(segment['id'])] = train_ids[segment['category_id']]
        frames.append((stem, osp.join(raw, 'panoptic', png), segments))
    return sorted(frames)


def segment_ids(path: str) -> np.ndarray:
    """``[H, W]`` segment ids of a COCO panoptic PNG (id = R + 256 G + 256^2 B)."""
    from PIL import Image
    with Image.open(path) as image:
        if image.mode != 'RGB':
            raise ValueError(f'{path}: a {image.mode} image; a panoptic PNG is RGB')
        rgb = np.array(image).astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def frame_train_ids(path: str, segments) -> np.ndarray:
    """Train ids of one panoptic PNG; void (0) -> 255; an unlisted id is an error."""
    ids = segment_ids(path)
    values, inverse = np.unique(ids, return_inverse=True)
    unknown = [int(v) for v in values if v != 0 and int(v) not in segments]
    if unknown:
        raise ValueError(f'{path}: segment id {unknown[0]} is not in panoptic.json\'s '
                         f'segments_info of this image')
    lookup = np.array([segments.get(int(v), cross_domain.IGNORE) for v in values],
                      dtype=np.uint8)
    return lookup[inverse.reshape(ids.shape)]


class Converter:
    """Checks and converts one frame (picklable, for ``--nproc``)."""

    def __init__(self, out_dir: str):
        self.out_dir = out_dir

    def check(self, frame) -> None:
        frame_train_ids(frame[1], frame[2])

    def __call__(self, frame) -> None:
        stem, png, segments = frame
        out = cross_domain.label_path(self.out_dir, stem)
        if not converters.is_up_to_date(out, png):
            cross_domain.save_train_ids(frame_train_ids(png, segments), out)


def read_list(path: str):
    """Image stems of a list file (``.jpg`` dropped), each a plain file name."""
    return {osp.splitext(cross_domain.plain_file_name(line, path, 'image name'))[0]
            for line in converters.read_id_list(path)}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('raw_dir', help='the WildDash 2 folder (with panoptic.json)')
    parser.add_argument('-o', '--out-dir', required=True, help='output folder')
    parser.add_argument('--list', help='convert only the images named in this file')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    raw, out_dir = args.raw_dir, args.out_dir
    cross_domain.check_out_dir(raw, out_dir)
    converters.require([osp.join(raw, JSON_FILE), osp.join(raw, 'panoptic'),
                        osp.join(raw, 'images')] + ([args.list] if args.list else []),
                       'WildDash 2 input')
    wanted = read_list(args.list) if args.list else None
    frames = read_panoptic_json(raw, wanted)
    if wanted is not None:
        missing = sorted(wanted - {stem for stem, _, _ in frames})
        if missing:
            raise ValueError(f'{args.list}: {missing[0]!r} has no annotation in '
                             f'{osp.join(raw, JSON_FILE)}')
    if not frames:
        raise FileNotFoundError(f'WildDash 2 input: {osp.join(raw, JSON_FILE)} has no '
                                'annotation')
    converters.require((png for _, png, _ in frames), 'a WildDash 2 annotation has no PNG')
    converters.require((osp.join(raw, 'images', stem + '.jpg') for stem, _, _ in frames),
                       'a WildDash 2 annotation has no image')
    converter = Converter(out_dir)
    print(f'checking {len(frames)} panoptic PNGs')
    converters.run(converter.check, frames, args.nproc)
    print(f'\n{len(frames)} images -> *{cross_domain.LABEL_SUFFIX}')
    converters.run(converter, frames, args.nproc)
    cross_domain.finish(out_dir, osp.join(raw, 'images'), [stem for stem, _, _ in frames])
    print(f'\ndone: {out_dir} (data_root of configs/_base_/datasets/cross_domain/'
          f'wilddash2.py)')


if __name__ == '__main__':
    main()
