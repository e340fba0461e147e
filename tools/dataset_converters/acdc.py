"""ACDC (adverse conditions) for the cross-domain test: Cityscapes train ids, invalid regions
ignored.

    python tools/dataset_converters/acdc.py RAW_DIR -o OUT_DIR [--split val]
        [--conditions fog night rain snow] [--keep-invalid] [--nproc N]

Input: ACDC (https://acdc.vision.ee.ethz.ch/, ``rgb_anon_trainvaltest.zip`` and
``gt_trainval.zip``) unpacked as is::

    RAW_DIR/rgb_anon/<condition>/<split>/<sequence>/<name>_rgb_anon.png
    RAW_DIR/gt/<condition>/<split>/<sequence>/<name>_gt_labelTrainIds.png
    RAW_DIR/gt/<condition>/<split>/<sequence>/<name>_gt_invIds.png     (1 = invalid region)

ACDC's labels already are Cityscapes train ids (19 classes, 255 = ignore). The regions
its annotators marked invalid (``_gt_invIds.png`` = 1, content not discernible) get 255, as the
cross-domain study of "Flattening the Parent Bias" (CVPR 2024; tum-vision/hierahyp,
preprocess_ood_datasets/dataset_func.py) does; ``--keep-invalid`` keeps their best-guess
labels instead (what configs reading ``_gt_labelTrainIds.png`` directly evaluate).

Output (hieraseg.utils.cross_domain's layout; configs/_base_/datasets/cross_domain/acdc.py)::

    OUT_DIR/labels/<condition>/<split>/<sequence>/<name>_labelTrainIds.png
    OUT_DIR/val.txt          ``<condition>/<split>/<sequence>/<name>`` per line (--split)
    OUT_DIR/images           a link to RAW_DIR/rgb_anon

Every input is checked before anything is written: an image without its two label files,
a train id outside 0..18 and 255, an invalid mask with values other than 0 and 1 or another
size (the file and the value named).
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from hieraseg.utils import converters, cross_domain  # noqa: E402

CONDITIONS = ('fog', 'night', 'rain', 'snow')
IMG_SUFFIX = '_rgb_anon.png'
TRAIN_IDS = '_gt_labelTrainIds.png'
INVALID = '_gt_invIds.png'
VALID_TRAIN_IDS = frozenset(range(19)) | {255}


def find_frames(raw: str, split: str, conditions):
    """``<condition>/<split>/<sequence>/<name>`` of every image, sorted."""
    stems = []
    for condition in conditions:
        root = osp.join(raw, 'rgb_anon', condition, split)
        for folder, _, names in os.walk(root):
            for name in names:
                if name.endswith(IMG_SUFFIX):
                    rel = osp.relpath(osp.join(folder, name[:-len(IMG_SUFFIX)]),
                                      osp.join(raw, 'rgb_anon'))
                    stems.append(rel.replace(os.sep, '/'))
    return sorted(stems)


class Converter:
    """Checks and converts one frame (picklable, for ``--nproc``)."""

    def __init__(self, raw: str, out_dir: str, keep_invalid: bool):
        self.raw, self.out_dir, self.keep_invalid = raw, out_dir, keep_invalid

    def sources(self, stem: str):
        base = osp.join(self.raw, 'gt', stem)
        return base + TRAIN_IDS, base + INVALID

    def read(self, stem: str):
        labels_path, invalid_path = self.sources(stem)
        labels = cross_domain.read_label_ids(labels_path)
        cross_domain.check_known(labels, VALID_TRAIN_IDS, labels_path, 'Cityscapes train')
        if self.keep_invalid:
            return labels, None
        invalid = cross_domain.read_label_ids(invalid_path)
        if invalid.shape != labels.shape:
            raise ValueError(f'{invalid_path}: size {invalid.shape} differs from the label\'s '
                             f'{labels.shape}')
        cross_domain.check_known(invalid, (0, 1), invalid_path, 'ACDC invalid-mask (0/1)')
        return labels, invalid

    def check(self, stem: str) -> None:
        self.read(stem)

    def __call__(self, stem: str) -> None:
        out = cross_domain.label_path(self.out_dir, stem)
        if converters.is_up_to_date(out, *self.sources(stem)[:1 if self.keep_invalid else 2]):
            return
        labels, invalid = self.read(stem)
        if invalid is not None:
            labels = np.where(invalid == 1, cross_domain.IGNORE, labels)
        cross_domain.save_train_ids(labels, out)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('raw_dir', help='the ACDC folder (with rgb_anon/, gt/)')
    parser.add_argument('-o', '--out-dir', required=True, help='output folder')
    parser.add_argument('--split', default='val', choices=('train', 'val'),
                        help='which split (default val; ACDC\'s test labels are withheld)')
    parser.add_argument('--conditions', nargs='+', default=list(CONDITIONS),
                        choices=CONDITIONS, help='weather conditions (default: all four)')
    parser.add_argument('--keep-invalid', action='store_true',
                        help='keep the labels of invalid regions instead of ignoring them')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    raw, out_dir = args.raw_dir, args.out_dir
    cross_domain.check_out_dir(raw, out_dir)
    converters.require([osp.join(raw, folder, condition, args.split)
                        for folder in ('rgb_anon', 'gt') for condition in args.conditions],
                       'ACDC input')
    stems = find_frames(raw, args.split, args.conditions)
    if not stems:
        raise FileNotFoundError(f'ACDC input: no *{IMG_SUFFIX} under '
                                f'{osp.join(raw, "rgb_anon")}/<condition>/{args.split}')
    converter = Converter(raw, out_dir, args.keep_invalid)
    needed = [path for stem in stems
              for path in converter.sources(stem)[:1 if args.keep_invalid else 2]]
    converters.require(needed, 'an ACDC image has no label file')
    print(f'checking {len(stems)} frames')
    converters.run(converter.check, stems, args.nproc)
    print(f'\n{args.split}: {len(stems)} frames -> *{cross_domain.LABEL_SUFFIX}')
    converters.run(converter, stems, args.nproc)
    cross_domain.finish(out_dir, osp.join(raw, 'rgb_anon'), stems)
    print(f'\ndone: {out_dir} (data_root of configs/_base_/datasets/cross_domain/acdc.py)')


if __name__ == '__main__':
    main()
