"""Tiny files in the released layouts and formats of ACDC, BDD100K, Mapillary Vistas 2.0,
IDD and WildDash 2, with the train ids their converters must produce (255 = ignore)."""
import json
import os
import os.path as osp

import numpy as np
from PIL import Image

H, W = 12, 16
IGNORE = 255


def _image(path, seed, ext_format=None):
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(path, ext_format)


def _png(path, values, mode='L'):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(values, dtype=np.uint8), mode=mode).save(path)


def stripes(values):
    """``[H, W]`` with one column band per value, left to right."""
    out = np.zeros((H, W), dtype=np.int64)
    for index, value in enumerate(values):
        out[:, index * W // len(values):(index + 1) * W // len(values)] = value
    return out


# ----------------------------------------------------------------------------------- ACDC
ACDC_FRAMES = ('fog/val/GOPR0475/GOPR0475_frame_000041',
               'night/val/GP010376/GP010376_frame_000001',
               'rain/val/GP010400/GP010400_frame_000543',
               'snow/val/GP010122/GP010122_frame_000090')


def write_acdc(raw):
    """A val frame of each condition; the first has an invalid region (rows 0..2)."""
    expected = {}
    for seed, stem in enumerate(ACDC_FRAMES):
        _image(osp.join(raw, 'rgb_anon', stem + '_rgb_anon.png'), seed)
        train_ids = stripes([0, 10, 13, IGNORE])
        invalid = np.zeros((H, W), dtype=np.uint8)
        if seed == 0:
            invalid[:3] = 1
        _png(osp.join(raw, 'gt', stem + '_gt_labelTrainIds.png'), train_ids)
        _png(osp.join(raw, 'gt', stem + '_gt_invIds.png'), invalid)
        _png(osp.join(raw, 'gt', stem + '_gt_labelIds.png'), np.zeros((H, W)))  # not read
        expected[stem] = np.where(invalid == 1, IGNORE, train_ids)
    return expected


# -------------------------------------------------------------------------------- BDD100K
BDD_NAMES = ('7d2f7975-e0c1c5a7', '7d4a9094-0455564b')


def write_bdd100k(raw):
    """Val images with their train-id masks (read as they are)."""
    expected = {}
    for seed, name in enumerate(BDD_NAMES):
        _image(osp.join(raw, 'images', '10k', 'val', name + '.jpg'), seed)
        mask = stripes([0, 8, 18, IGNORE])
        _png(osp.join(raw, 'labels', 'sem_seg', 'masks', 'val', name + '.png'), mask)
        expected[name] = mask
    return expected


# ---------------------------------------------------------------------- Mapillary Vistas 2.0
# (class id, class name, Cityscapes train id)
MAPILLARY_CASES = (
    (21, 'Road', 0), (45, 'Lane Marking - Crosswalk', 0), (4, 'Curb', 1), (28, 'Garage', 2),
    (7, 'Barrier', 3), (5, 'Fence', 4), (87, 'Traffic Sign Frame', 5),
    (92, 'Traffic Light - General (Upright)', 6), (100, 'Traffic Sign (Front)', 7),
    (97, 'Traffic Sign (Back)', IGNORE), (31, 'Person Group', 11), (111, 'On Rails', 16),
    (17, 'Parking', IGNORE), (123, 'Unlabeled', IGNORE),
    (57, 'Lane Marking (only) - Other', IGNORE), (25, 'Traffic Island', 1))


def write_mapillary(raw):
    """The release layout (tests of mapillary_v2.py), the validation image's label replaced
    by one column per case."""
    from .test_mapillary_v2 import save_palette_png, write_raw
    write_raw(raw)
    stem = '_1Gn_xkw7sa_i9GU4mkxxQ'
    labels = np.zeros((H, len(MAPILLARY_CASES)), dtype=np.int64)
    expected = np.zeros_like(labels)
    for column, (class_id, _, train_id) in enumerate(MAPILLARY_CASES):
        labels[:, column], expected[:, column] = class_id, train_id
    Image.fromarray(np.zeros((H, len(MAPILLARY_CASES), 3), dtype=np.uint8)).save(
        osp.join(raw, 'validation', 'images', stem + '.jpg'))
    save_palette_png(osp.join(raw, 'validation', 'v2.0', 'labels', stem + '.png'), labels)
    return {stem: expected}


# ------------------------------------------------------------------------------------ IDD
def _box(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def write_idd(raw, extra_objects=()):
    """A polygon frame and a level-3 PNG frame of val."""
    polygon_stem, png_stem = '0/frame0199', '1/frame0420'
    for seed, stem in enumerate((polygon_stem, png_stem)):
        _image(osp.join(raw, 'leftImg8bit', 'val', stem + '_leftImg8bit.png'), seed)
    objects = [
        dict(label='road', polygon=_box(0, 6, 15, 11)),                   # level 3: 0 -> 0
        dict(label='sky', polygon=_box(0, 0, 15, 2)),                     # 25 -> 10
        dict(label='non-drivable fallback', polygon=_box(0, 3, 3, 5)),    # 3 -> ignore
        dict(label='cargroup', polygon=_box(8, 7, 11, 9)),                # car 9 -> 13
        dict(label='autorickshaw', polygon=_box(12, 7, 14, 9)),           # 8 -> ignore
        dict(label='vegetation', polygon=_box(4, 3, 7, 5), deleted=1),    # skipped
        dict(label='pole', polygon=_box(13, 0, 13, 11)),                  # 20 -> 5, on top
    ] + list(extra_objects)
    path = osp.join(raw, 'gtFine', 'val', polygon_stem + '_gtFine_polygons.json')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(dict(imgHeight=H, imgWidth=W, objects=objects), f)
    polygon = np.full((H, W), IGNORE)
    polygon[6:12, 0:16] = 0
    polygon[0:3, 0:16] = 10
    polygon[7:10, 8:12] = 13
    polygon[7:10, 12:15] = IGNORE
    polygon[:, 13] = 5
    level3 = stripes([0, 2, 25, 3, 255])  # road, sidewalk, sky/fallback background, ...
    _png(osp.join(raw, 'gtFine', 'val', png_stem + '_gtFine_labellevel3Ids.png'), level3)
    return {polygon_stem: polygon, png_stem: stripes([0, 1, 10, IGNORE, IGNORE])}


# ----------------------------------------------------------------------------- WildDash 2
def rgb_of_ids(ids):
    """COCO panoptic encoding: id = R + 256 G + 256^2 B."""
    ids = np.asarray(ids, dtype=np.int64)
    return np.stack([ids % 256, ids // 256 % 256, ids // 65536], -1).astype(np.uint8)


def wilddash_categories():
    """panoptic.json's categories, as the release lists them (id, name, ...)."""
    from .conftest import load_converter
    return [dict(id=index, name=name, isthing=0, supercategory='', color=[index] * 3)
            for index, name in enumerate(load_converter('wilddash2').WD2_CATEGORIES)]


def write_wilddash(raw, categories=None, annotation_name='at0000_000001.png',
                   extra_segment_id=None):
    """One image with segments van (-> car), road marking (-> road), static (-> ignore),
    curb on terrain (-> terrain) and void pixels; ids above 255 use the G channel."""
    stem = 'at0000_000001'
    _image(osp.join(raw, 'images', stem + '.jpg'), 0)
    segments = [(300, 35, 13), (7, 38, 0), (70000, 4, IGNORE), (12, 78, 9)]
    ids = stripes([300, 7, 70000, 12, 0])
    if extra_segment_id is not None:
        ids[0, 0] = extra_segment_id
    os.makedirs(osp.join(raw, 'panoptic'))
    Image.fromarray(rgb_of_ids(ids)).save(osp.join(raw, 'panoptic', stem + '.png'))
    data = dict(
        images=[dict(id=stem, file_name=stem + '.jpg', height=H, width=W)],
        annotations=[dict(image_id=stem, file_name=annotation_name, segments_info=[
            dict(id=sid, category_id=cid, iscrowd=0) for sid, cid, _ in segments])],
        categories=categories if categories is not None else wilddash_categories())
    with open(osp.join(raw, 'panoptic.json'), 'w') as f:
        json.dump(data, f)
    return {stem: stripes([13, 0, IGNORE, 9, IGNORE])}
