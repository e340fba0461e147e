"""Print a config's class hierarchy as a tree with the pixel share of every node.

    python tools/hierarchy_stats.py CONFIG [--split train|val|test] [--nproc N]
        [--cfg-options KEY=VALUE ...]

Reads every label file of the split once (progress bar; ``--nproc`` processes), as mmseg
loads it (``reduce_zero_label`` and ``label_map`` applied), counts the pixels of every leaf
class, sums them up the tree and prints each node's share of the labelled pixels. Leaves that
never occur are flagged: a sign that the label ids do not mean what the hierarchy says, or
of a split without that class. A label value outside the classes is an error naming the file
and the value. The hierarchy is the data set's (``metainfo['hierarchy']``), else the head's.
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

DATALOADERS = {'train': 'train_dataloader', 'val': 'val_dataloader', 'test': 'test_dataloader'}


def parse_args():
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('config', help='a training config')
    parser.add_argument('--split', choices=sorted(DATALOADERS), default='train',
                        help='whose data set to count (default: train)')
    parser.add_argument('--nproc', type=int, default=1, help='processes reading label files')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/train.py')
    return parser.parse_args()


def find_hierarchy(cfg, dataset):
    """The data set's hierarchy, else the first head's that has one."""
    spec = dataset.metainfo.get('hierarchy')
    if spec is not None:
        return spec
    model = cfg.get('model') or {}
    for key in ('decode_head', 'auxiliary_head'):
        heads = model.get(key)
        for head in heads if isinstance(heads, (list, tuple)) else [heads]:
            if isinstance(head, dict) and head.get('hierarchy') is not None:
                return head['hierarchy']
    raise SystemExit(f'{cfg.filename}: neither the data set nor a head names a class hierarchy')


def main():
    args = parse_args()
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    import hieraseg  # noqa: F401  (registers the data sets)
    from hieraseg.hierarchy import build_hierarchy
    from hieraseg.utils.hierarchy_stats import count_files, summarize
    from hieraseg.utils.tools import load_config

    cfg = load_config(args.config, args.cfg_options)  # hierarchy paths: the config's folder
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader = DATALOADERS[args.split]
    if loader not in cfg:
        raise SystemExit(f'{args.config} has no {loader}')
    dataset_cfg = cfg[loader].dataset.copy()
    while dataset_cfg.get('type') in ('RepeatDataset', 'ClassBalancedDataset'):
        dataset_cfg = dataset_cfg.dataset.copy()  # the wrapped data set's files
    dataset_cfg.pipeline = []
    if 'check_labels' in dataset_cfg:
        dataset_cfg.check_labels = False  # this tool reads every label file anyway
    dataset = DATASETS.build(dataset_cfg)
    hierarchy = build_hierarchy(find_hierarchy(cfg, dataset))
    hierarchy.check_classes(dataset.metainfo['classes'], f'{loader}.dataset')
    paths = [dataset.get_data_info(i).get('seg_map_path') for i in range(len(dataset))]
    missing = [i for i, p in enumerate(paths) if not p]
    if missing:
        raise SystemExit(f'{loader}.dataset: sample {missing[0]} has no label file '
                         f'(data_prefix.seg_map_path unset?)')
    print(f'counting pixels in {len(paths)} label files of {loader}.dataset')
    leaf_counts, ignored = count_files(
        paths, hierarchy.num_leaves, args.nproc, ignore_index=dataset.ignore_index,
        reduce_zero_label=dataset.reduce_zero_label, label_map=dataset.label_map)
    print()
    print(summarize(hierarchy, leaf_counts, ignored, len(paths), f'the {args.split} split'))


if __name__ == '__main__':
    main()
