"""Convert the PASCAL-Part annotations of persons to PASCAL-Person-Part (7 classes).

    python tools/dataset_converters/pascal_person_part.py RAW_DIR [-o OUT_DIR] [--nproc N]
        [--img-dir DIR] [--split-dir DIR]

Input (never modified):

    RAW_DIR/Annotations_Part/<id>.mat   the PASCAL-Part release (trainval.tar.gz,
                                        http://roozbehm.info/pascal-parts/pascal-parts.html),
                                        one MATLAB struct ``anno`` per image: ``anno.objects``
                                        with ``class``, ``mask`` and ``parts`` (``part_name``,
                                        ``mask``) per object
    RAW_DIR/JPEGImages/<id>.jpg         the PASCAL VOC 2010 images (VOCtrainval_03-May-2010),
                                        or --img-dir
    RAW_DIR/ImageSets/Main/train.txt    VOC 2010's train / val image lists, or --split-dir
    RAW_DIR/ImageSets/Main/val.txt

Output (``PascalPersonPartDataset``'s layout, configs/_base_/datasets/hiera_pascal_person_part.py):

    OUT_DIR/JPEGImages/<id>.jpg         copies of the images that contain a person
    OUT_DIR/SegmentationPart/<id>.png   single-channel labels 0..6
    OUT_DIR/train_id.txt, val_id.txt    the ids of each split that contain a person

Classes: 0 background, 1 head, 2 torso, 3 upper arm, 4 lower arm, 5 upper leg, 6 lower leg.
Every pixel of a part of an object of class ``person`` gets its part's class, every other
pixel (other objects, a person's pixels outside its annotated parts) is background. The
part names are PASCAL-Part's person parts (its ``part2ind.m`` / the data set page above);
the grouping into 6 parts is the one PASCAL-Person-Part was made with (X. Chen et al.,
"Detect What You Can: Detecting and Representing Objects using Holistic Models and Body
Parts", CVPR 2014), written out here from its description (head, torso, upper / lower arms,
upper / lower legs; hands with lower arms, feet with lower legs); the released label files of
that paper are the reference to compare with:

    =============  ============================================================
    class          PASCAL-Part person part names
    =============  ============================================================
    1 head         head, leye, reye, lear, rear, lebrow, rebrow, nose, mouth, hair
    2 torso        torso, neck
    3 upper arm    luarm, ruarm
    4 lower arm    llarm, rlarm, lhand, rhand
    5 upper leg    luleg, ruleg
    6 lower leg    llleg, rlleg, lfoot, rfoot
    =============  ============================================================

A person part name outside this table is an error naming the file and the name. Every input
is checked (the first missing file named, then every annotation file read) before anything is
written; each output is written
to a partial name and renamed when complete; outputs newer than their inputs are kept, so a
second run only converts what changed.
"""
import argparse
import os.path as osp
import sys

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from hieraseg.utils import converters  # noqa: E402

CLASSES = ('background', 'head', 'torso', 'upper arm', 'lower arm', 'upper leg', 'lower leg')
PART_TO_CLASS = {
    **{name: 1 for name in ('head', 'leye', 'reye', 'lear', 'rear', 'lebrow', 'rebrow', 'nose',
                            'mouth', 'hair')},
    'torso': 2, 'neck': 2,
    'luarm': 3, 'ruarm': 3,
    'llarm': 4, 'rlarm': 4, 'lhand': 4, 'rhand': 4,
    'luleg': 5, 'ruleg': 5,
    'llleg': 6, 'rlleg': 6, 'lfoot': 6, 'rfoot': 6,
}
SPLITS = ('train', 'val')


def _str(value) -> str:
    """A MATLAB char array as loadmat returns it, as a Python string."""
    if isinstance(value, np.ndarray):
        value = value.item() if value.size == 1 else ''.join(value.reshape(-1).tolist())
    return str(value)


def _structs(value) -> list:
    """A MATLAB struct array (possibly a single struct or empty) as a list."""
    if value is None:
        return []
    return [v for v in np.atleast_1d(value).reshape(-1) if hasattr(v, '_fieldnames')]


def person_part_labels(mat_path: str) -> np.ndarray:
    """The ``[H, W]`` uint8 7-class label map of one PASCAL-Part annotation file.

    Raises:
        ValueError: naming the file, if it is not a PASCAL-Part annotation, a mask does not
            match the image size, or a person part name is not in the table.
    """
    from scipy.io import loadmat
    data = loadmat(mat_path, squeeze_me=True, struct_as_record=False)
    anno = data.get('anno')
    if anno is None or not hasattr(anno, 'objects'):
        raise ValueError(f'{mat_path}: not a PASCAL-Part annotation (no struct "anno" with '
                         f'field "objects"; keys: {sorted(k for k in data if k[0] != "_")})')
    objects = _structs(anno.objects)
    shape = None
    for obj in objects:
        mask = np.asarray(obj.mask)
        if shape is None:
            shape = mask.shape
        elif mask.shape != shape:
            raise ValueError(f'{mat_path}: object masks of sizes {shape} and {mask.shape}')
    if shape is None:
        raise ValueError(f'{mat_path}: has no objects')
    labels = np.zeros(shape, dtype=np.uint8)
    for index, obj in enumerate(objects):
        if _str(obj.__dict__.get('class')) != 'person':
            continue
        for part in _structs(obj.__dict__.get('parts')):
            name = _str(part.part_name)
            if name not in PART_TO_CLASS:
                raise ValueError(f'{mat_path}: person (object {index + 1}) has the part name '
                                 f'{name!r}, which is not in the table of person parts '
                                 f'{sorted(PART_TO_CLASS)}')
            mask = np.asarray(part.mask).astype(bool)
            if mask.shape != shape:
                raise ValueError(f'{mat_path}: the mask of part {name!r} is {mask.shape}, the '
                                 f'image {shape}')
            labels[mask] = PART_TO_CLASS[name]
    return labels


def has_person(mat_path: str) -> bool:
    """Whether the annotation holds a person; reads and checks the whole file (the check
    pass runs it on every file before anything is written)."""
    from scipy.io import loadmat
    person_part_labels(mat_path)  # raises on a malformed file or an unknown part name
    anno = loadmat(mat_path, squeeze_me=True, struct_as_record=False)['anno']
    return any(_str(o.__dict__.get('class')) == 'person' for o in _structs(anno.objects))


class Converter:
    """Writes one image id's image copy and label PNG (picklable, for ``--nproc``)."""

    def __init__(self, ann_dir, img_dir, out_dir):
        self.ann_dir, self.img_dir, self.out_dir = ann_dir, img_dir, out_dir

    def check(self, image_id: str) -> bool:
        return has_person(osp.join(self.ann_dir, image_id + '.mat'))

    def __call__(self, image_id: str) -> None:
        mat = osp.join(self.ann_dir, image_id + '.mat')
        image = osp.join(self.img_dir, image_id + '.jpg')
        out_png = osp.join(self.out_dir, 'SegmentationPart', image_id + '.png')
        converters.copy_file(image, osp.join(self.out_dir, 'JPEGImages', image_id + '.jpg'))
        if not converters.is_up_to_date(out_png, mat):
            converters.save_label_png(person_part_labels(mat), out_png)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('raw_dir', help='the PASCAL-Part release (with Annotations_Part/)')
    parser.add_argument('-o', '--out-dir', help='output folder (default: RAW_DIR/../'
                        'pascal_person_part)')
    parser.add_argument('--img-dir', help='VOC 2010 JPEGImages (default RAW_DIR/JPEGImages)')
    parser.add_argument('--split-dir', help='folder with train.txt and val.txt '
                        '(default RAW_DIR/ImageSets/Main)')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    raw = args.raw_dir
    out_dir = args.out_dir or osp.join(osp.dirname(osp.abspath(raw)), 'pascal_person_part')
    ann_dir = osp.join(raw, 'Annotations_Part')
    img_dir = args.img_dir or osp.join(raw, 'JPEGImages')
    split_dir = args.split_dir or osp.join(raw, 'ImageSets', 'Main')
    if osp.abspath(out_dir) == osp.abspath(raw):
        raise SystemExit('the output folder must not be the raw folder (it is never written)')
    split_files = [osp.join(split_dir, f'{split}.txt') for split in SPLITS]
    converters.require([ann_dir, img_dir] + split_files, 'PASCAL-Part input')
    ids = {split: converters.read_id_list(path) for split, path in zip(SPLITS, split_files)}
    every_id = [i for split in SPLITS for i in ids[split]]
    converters.require((osp.join(ann_dir, i + '.mat') for i in every_id),
                       'a listed image has no part annotation')
    converters.require((osp.join(img_dir, i + '.jpg') for i in every_id),
                       'a listed image is missing')
    converter = Converter(ann_dir, img_dir, out_dir)
    print(f'checking {len(every_id)} annotation files')
    person = dict(zip(every_id, converters.run(converter.check, every_id, args.nproc)))
    for split in SPLITS:
        with_person = [i for i in ids[split] if person[i]]
        print(f'\n{split}: converting the {len(with_person)} of {len(ids[split])} images that '
              f'show a person')
        converters.run(converter, with_person, args.nproc)
        converters.write_lines(with_person, osp.join(out_dir, f'{split}_id.txt'))
    print(f'done: {out_dir}')


if __name__ == '__main__':
    main()
