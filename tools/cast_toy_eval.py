"""Compare a trained CAST with a trained ViT of its size on the toy objects: accuracy, and
per segmentation level the mean best-match IoU between the object masks and the segments.

    python tools/cast_toy_eval.py CAST_CONFIG CAST_CKPT VIT_CONFIG VIT_CKPT
        [--split val] [--data-root data/toy_objects] [--json OUT.json] [--trust-checkpoint]

CAST's levels: the superpixels alone (level 0), then every graph-pooling level; the ViT's:
its last patch tokens grouped by k-means into as many clusters as each CAST level. A
checkpoint given as ``random`` evaluates the untrained model (initialised with seed 0):
what the architecture groups before any recognition training.
"""
import argparse
import json
import logging
import sys

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import DATASETS, MODELS, DefaultScope
from mmengine.runner import load_checkpoint

from hieraseg.utils.checkpoint import use_safe_checkpoint_loading
from hieraseg.utils.tools import add_trust_checkpoint_argument


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('cast_config')
    parser.add_argument('cast_checkpoint')
    parser.add_argument('vit_config')
    parser.add_argument('vit_checkpoint')
    parser.add_argument('--split', default='val', choices=['train', 'val'])
    parser.add_argument('--data-root', help='toy objects folder (default: the config\'s)')
    parser.add_argument('--seed', type=int, default=0, help='k-means seed')
    parser.add_argument('--json', help='also write the figures here')
    add_trust_checkpoint_argument(parser)
    return parser.parse_args(argv)


def load(config: str, checkpoint: str):
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        model = MODELS.build(cfg.model)
    if checkpoint == 'random':
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # init_weights logs every parameter
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    else:
        load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    return cfg, model.eval()


def build_dataset(cfg, split: str, data_root=None):
    dataset_cfg = cfg.val_dataloader.dataset.copy()
    dataset_cfg.update(split=split, pipeline=cfg.test_dataloader.dataset.pipeline)
    if data_root:
        dataset_cfg.data_root = data_root
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        return DATASETS.build(dataset_cfg)


def format_table(cast: dict, vit: dict) -> str:
    lines = [f'accuracy: CAST {cast["accuracy"]:.1f}%  ViT {vit["accuracy"]:.1f}%',
             '| level | CAST segments | CAST mIoU | ViT + k-means mIoU |', '|---|---|---|---|']
    vit_by_k = {level['clusters']: level['miou'] for level in vit['levels']}
    for index, level in enumerate(cast['levels']):
        name = 'superpixels' if level['clusters'] is None else f'{index} ({level["clusters"]})'
        theirs = vit_by_k.get(level['clusters'])
        lines.append(f'| {name} | {level["segments"]:.1f} | {level["miou"]:.1f} | '
                     + ('-' if theirs is None else f'{theirs:.1f}') + ' |')
    lines.append(f'superpixel ceiling (best exact grouping of the superpixels): '
                 f'{cast["superpixel_ceiling"]:.1f}')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    use_safe_checkpoint_loading(trusted=args.trust_checkpoint)
    import hieraseg  # noqa: F401  (registers CAST and the toy data set)
    from hieraseg.evaluation.cast_toy_eval import evaluate_cast, evaluate_vit_kmeans
    cast_cfg, cast_model = load(args.cast_config, args.cast_checkpoint)
    vit_cfg, vit_model = load(args.vit_config, args.vit_checkpoint)
    cast = evaluate_cast(cast_model, build_dataset(cast_cfg, args.split, args.data_root))
    clusters = [level['clusters'] for level in cast['levels'][1:]]
    vit = evaluate_vit_kmeans(vit_model, build_dataset(vit_cfg, args.split, args.data_root),
                              clusters, seed=args.seed)
    print(format_table(cast, vit))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(cast=cast, vit_kmeans=vit), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
