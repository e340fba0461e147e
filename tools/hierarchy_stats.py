"""Print a config's class hierarchy as a tree with the pixel share of every node.

    python tools/hierarchy_stats.py CONFIG [--split train|val|test] [--nproc N]
        [--class-weight] [--cfg-options KEY=VALUE ...]

Reads every label file of the split once (progress bar; ``--nproc`` processes), as mmseg
loads it (``reduce_zero_label`` and ``label_map`` applied), counts the pixels of every leaf
class, sums them up the tree and prints each node's share of the labelled pixels. Leaves that
never occur are flagged: a sign that the label ids do not mean what the hierarchy says, or
of a split without that class. A label value outside the classes is an error naming the file
and the value. The hierarchy is the data set's (``metainfo['hierarchy']``), else the head's.
``--class-weight`` also prints balanced per-leaf loss weights from the counts
(:func:`hieraseg.utils.class_weights.balanced_class_weights`).
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def parse_args():
    from mmengine.config import DictAction

    from hieraseg.utils.hierarchy_stats import DATALOADERS
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('config', help='a training config')
    parser.add_argument('--split', choices=sorted(DATALOADERS), default='train',
                        help='whose data set to count (default: train)')
    parser.add_argument('--nproc', type=int, default=1, help='processes reading label files')
    parser.add_argument('--class-weight', action='store_true',
                        help='also print balanced per-leaf class weights (square root of the '
                        'median frequency) as the class_weight argument of TreeMinLoss / '
                        'HieraCrossEntropyLoss')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/train.py')
    return parser.parse_args()


def main():
    args = parse_args()
    from hieraseg.utils.class_weights import balanced_class_weights
    from hieraseg.utils.hierarchy_stats import count_split, summarize
    from hieraseg.utils.tools import load_config

    cfg = load_config(args.config, args.cfg_options)  # hierarchy paths: the config's folder
    counts = count_split(cfg, args.split, args.nproc, config_name=args.config)
    print()
    print(summarize(counts.hierarchy, counts.leaf_counts, counts.ignored, counts.num_files,
                    f'the {args.split} split'))
    if args.class_weight:
        weights = balanced_class_weights(counts.leaf_counts)
        print(f'\nbalanced class weights of the {args.split} split (square root of the median '
              f'frequency; leaves in label order),\nfor TreeMinLoss and HieraCrossEntropyLoss '
              f'in the head\'s loss_decode (docs/own_data.md, section 7):\n'
              f'class_weight={weights}')


if __name__ == '__main__':
    main()
