"""Check a BDD100K segmentation download for the cross-domain test (no conversion).

    python tools/dataset_converters/bdd100k.py RAW_DIR [--split val] [--nproc N]

Input: BDD100K (https://bdd-data.berkeley.edu/, "10K Images" ``bdd100k_images_10k.zip`` and
"Segmentation" ``bdd100k_sem_seg_labels_trainval.zip``) unpacked as is (the layout of
mmsegmentation's projects/bdd100k_dataset)::

    RAW_DIR/images/10k/<split>/<name>.jpg
    RAW_DIR/labels/sem_seg/masks/<split>/<name>.png     Cityscapes train ids, 255 = ignore

BDD100K's semantic masks already hold the 19 Cityscapes train ids, so
``HieraCityscapesDataset`` reads them as they are (configs/_base_/datasets/cross_domain/
bdd100k.py: ``img_suffix='.jpg'``, ``seg_map_suffix='.png'``) and this script writes nothing.
It checks, and reports the first problem with the file named: the folders exist; every image
has its mask; every mask is a single-channel PNG (not a colour map from
``labels/sem_seg/colormaps``) whose values are train ids 0..18 or 255. Point ``data_root``
at RAW_DIR.
"""
import argparse
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from hieraseg.utils import converters, cross_domain  # noqa: E402

VALID_TRAIN_IDS = frozenset(range(19)) | {255}


def find_pairs(raw: str, split: str):
    """``(image, mask)`` paths of ``split``, by image, sorted."""
    img_dir = osp.join(raw, 'images', '10k', split)
    mask_dir = osp.join(raw, 'labels', 'sem_seg', 'masks', split)
    stems = sorted(osp.splitext(name)[0] for name in os.listdir(img_dir)
                   if name.endswith('.jpg'))
    return [(osp.join(img_dir, s + '.jpg'), osp.join(mask_dir, s + '.png')) for s in stems]


def check_mask(path: str) -> None:
    ids = cross_domain.read_label_ids(path)
    cross_domain.check_known(ids, VALID_TRAIN_IDS, path, 'Cityscapes train')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('raw_dir', help='the bdd100k folder (with images/, labels/)')
    parser.add_argument('--split', default='val', choices=('train', 'val'),
                        help='which split (default val)')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    raw = args.raw_dir
    converters.require([osp.join(raw, 'images', '10k', args.split),
                        osp.join(raw, 'labels', 'sem_seg', 'masks', args.split)],
                       'BDD100K input')
    pairs = find_pairs(raw, args.split)
    if not pairs:
        raise FileNotFoundError(f'BDD100K input: no .jpg in '
                                f'{osp.join(raw, "images", "10k", args.split)}')
    converters.require((mask for _, mask in pairs), 'a BDD100K image has no mask')
    print(f'checking {len(pairs)} masks')
    converters.run(check_mask, [mask for _, mask in pairs], args.nproc)
    print(f'\nBDD100K {args.split} in {raw} is ready: data_root={raw!r} (nothing was written)')


if __name__ == '__main__':
    main()
