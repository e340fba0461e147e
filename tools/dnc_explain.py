"""Explain one prediction of a DNC model, as a picture and as text.

    python tools/dnc_explain.py CONFIG CHECKPOINT IMAGE [--out PNG] [--exemplars JSON]
        [--runner-ups N] [--pixel Y X] [--device DEVICE] [--trust-checkpoint]
        [--cfg-options KEY=VALUE ...]

Classification: the IF-THEN rule. "IF x is most like exemplar (c*, k*) THEN class c*":
the predicted class, the exemplar (nearest real training image, from
tools/dnc_exemplars.py) of its winning sub-centroid with cos(x, p_{c*,k*}) and
cos(x, exemplar), and the best exemplars of the runner-up classes.
Segmentation: the image, the prediction and the per-pixel map of the winning sub-centroid
(each class's K sub-centroids in shades of the class colour); the exemplar file is
optional (it adds each predicted class's main exemplar to the printed summary).
Hierarchical DNC segmentation: the same picture for every level of the hierarchy
(OUT.<level>.png), and, per level, the predicted node, its winning sub-centroid and that
sub-centroid's exemplar, for the pixel --pixel Y X (original image coordinates) or, by
default, for the largest region of every predicted node.

The picture goes to --out (default: IMAGE_NAME.dnc_explain.png in the current folder).
"""
import argparse
import os.path as osp

from mmengine.config import DictAction

from hieraseg.explain import (CLASSIFICATION, default_exemplar_path, explain_classification,
                              explain_segmentation, load_dnc_model, load_exemplars,
                              read_image)
from hieraseg.explain.drawing import draw_classification, draw_segmentation
from hieraseg.explain.explain import output_path
from hieraseg.explain.hiera_explain import explain_hiera_segmentation, level_output_paths
from hieraseg.utils.checkpoint import set_checkpoint_trust
from hieraseg.utils.tools import add_trust_checkpoint_argument


def parse_args():
    parser = argparse.ArgumentParser(description='Explain a DNC prediction')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='a trained DNC checkpoint')
    parser.add_argument('image', help='the image to explain')
    parser.add_argument('--out', help='the picture (PNG) to write')
    parser.add_argument('--exemplars', help='exemplar file of the checkpoint (default: '
                        'CHECKPOINT.exemplars.json)')
    parser.add_argument('--runner-ups', type=int, default=3,
                        help='runner-up classes to show (classification)')
    parser.add_argument('--pixel', type=int, nargs=2, metavar=('Y', 'X'),
                        help='hierarchical segmentation: explain this pixel at every level')
    parser.add_argument('--device', help='cpu, cuda ... (default: cuda if there is one)')
    add_trust_checkpoint_argument(parser)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, as key=value pairs')
    args = parser.parse_args()
    if args.runner_ups < 0:
        parser.error('--runner-ups must be >= 0')
    return args


def main():
    args = parse_args()
    set_checkpoint_trust(args.trust_checkpoint)
    read_image(args.image)  # an unreadable image fails before the model is built
    dnc = load_dnc_model(args.config, args.checkpoint, args.device, args.cfg_options)
    exemplar_file = args.exemplars or default_exemplar_path(args.checkpoint)
    out = output_path(args.image, args.out)
    if dnc.task == CLASSIFICATION:
        exemplars = load_exemplars(exemplar_file, dnc)
        explanation = explain_classification(dnc, args.image, exemplars, args.runner_ups)
        print(explanation.rule())
        draw_classification(explanation, out)
    else:
        exemplars = None
        if args.exemplars or osp.isfile(exemplar_file):
            exemplars = load_exemplars(exemplar_file, dnc)
        if dnc.hierarchy is not None:
            explanation = explain_hiera_segmentation(dnc, args.image, exemplars, args.pixel)
            print(explanation.summary())
            for level, path in zip(explanation.levels,
                                   level_output_paths(out, explanation.level_names)):
                print(f'picture: {draw_segmentation(level, path)}')
            return
        if args.pixel is not None:
            raise SystemExit('--pixel is for hierarchical DNC models')
        explanation = explain_segmentation(dnc, args.image, exemplars)
        print(explanation.summary())
        draw_segmentation(explanation, out)
    print(f'picture: {out}')


if __name__ == '__main__':
    main()
