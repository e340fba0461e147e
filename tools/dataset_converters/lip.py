"""Check the LIP (Look Into Person) release and write the split lists mmseg's loader reads.

    python tools/dataset_converters/lip.py RAW_DIR [-o OUT_DIR] [--nproc N]

Input: the single-person human parsing set of https://www.sysu-hcp.net/lip/ ("Data" page;
``TrainVal_images.zip`` and ``TrainVal_parsing_annotations.zip``) unpacked as is::

    RAW_DIR/TrainVal_images/train_images/<id>.jpg
    RAW_DIR/TrainVal_images/val_images/<id>.jpg
    RAW_DIR/TrainVal_images/train_id.txt, val_id.txt          one <id> per line
    RAW_DIR/TrainVal_parsing_annotations/train_segmentations/<id>.png   values 0..19
    RAW_DIR/TrainVal_parsing_annotations/val_segmentations/<id>.png

LIP needs no conversion: ``HieraLIPDataset`` (configs/_base_/datasets/hiera_lip.py) reads
these folders. This script checks them and writes what mmseg's loader reads as its
``ann_file``::

    OUT_DIR/train.txt, val.txt      the <id>s of each split (image and labels both present)
    OUT_DIR/TrainVal_images, TrainVal_parsing_annotations
                                    links to RAW_DIR's when OUT_DIR is elsewhere

OUT_DIR defaults to RAW_DIR (only the two lists are added). Checked before anything is
written: the folders and id lists exist (the first missing one named), every listed id has
its image and its label PNG (the missing ones counted and the first named), every label PNG
is single-channel and holds only 0..19 or 255 (the file and the value named). A second run
rewrites the two lists with the same content.
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from hieraseg.utils import converters  # noqa: E402

SPLITS = ('train', 'val')
NUM_CLASSES = 20
IMAGES = 'TrainVal_images'
ANNOTATIONS = 'TrainVal_parsing_annotations'


def split_paths(raw: str, split: str):
    """(image folder, label folder, id list) of ``split`` in the release."""
    return (osp.join(raw, IMAGES, f'{split}_images'),
            osp.join(raw, ANNOTATIONS, f'{split}_segmentations'),
            osp.join(raw, IMAGES, f'{split}_id.txt'))


def check_label_file(path: str) -> None:
    """Raises ValueError naming ``path`` if it is not single-channel 0..19 / 255."""
    from PIL import Image
    with Image.open(path) as image:
        labels = np.array(image)
    if labels.ndim != 2:
        raise ValueError(f'{path}: a LIP label must be single-channel, got shape '
                         f'{labels.shape}')
    values = np.unique(labels)
    bad = values[(values >= NUM_CLASSES) & (values != 255)]
    if bad.size:
        raise ValueError(f'{path}: label value {int(bad[0])} is outside LIP\'s {NUM_CLASSES} '
                         f'classes (0..{NUM_CLASSES - 1}, 255 = ignore)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('raw_dir', help=f'the LIP folder (with {IMAGES}/, {ANNOTATIONS}/)')
    parser.add_argument('-o', '--out-dir', help='output folder (default: RAW_DIR)')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    raw = args.raw_dir
    out_dir = args.out_dir or raw
    converters.require([p for split in SPLITS for p in split_paths(raw, split)], 'LIP input')
    ids, labels = {}, []
    for split in SPLITS:
        img_dir, ann_dir, id_file = split_paths(raw, split)
        ids[split] = converters.read_id_list(id_file)
        if not ids[split]:
            raise ValueError(f'{id_file}: lists no image')
        missing = [p for i in ids[split] for p in (osp.join(img_dir, i + '.jpg'),
                                                   osp.join(ann_dir, i + '.png'))
                   if not osp.exists(p)]
        if missing:
            raise FileNotFoundError(f'LIP input: {len(missing)} files of the {len(ids[split])} '
                                    f'ids in {id_file} are missing, the first: {missing[0]}')
        labels += [osp.join(ann_dir, i + '.png') for i in ids[split]]
        print(f'{split}: {len(ids[split])} images with labels')
    print(f'checking {len(labels)} label files')
    converters.run(check_label_file, labels, args.nproc)
    for split in SPLITS:
        converters.write_lines(ids[split], osp.join(out_dir, f'{split}.txt'))
    if osp.abspath(out_dir) != osp.abspath(raw):
        for folder in (IMAGES, ANNOTATIONS):
            if not osp.exists(osp.join(out_dir, folder)):
                os.symlink(osp.abspath(osp.join(raw, folder)), osp.join(out_dir, folder))
    print(f'\ndone: {out_dir} (ann_file=\'train.txt\' / \'val.txt\')')


if __name__ == '__main__':
    main()
