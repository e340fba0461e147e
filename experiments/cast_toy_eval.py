"""Compare a trained CAST with a trained ViT of its size on the toy objects: accuracy, and
per segmentation level the mean best-match IoU between the object masks and the segments.

    python experiments/cast_toy_eval.py CAST_CONFIG CAST_CKPT VIT_CONFIG VIT_CKPT
        [--split val] [--data-root data/toy_objects] [--json OUT.json] [--trust-checkpoint]

CAST's levels: the superpixels alone (level 0), then every graph-pooling level; the ViT's:
its last patch tokens grouped by k-means into as many clusters as each CAST level. A
checkpoint given as ``random`` evaluates the untrained model (initialised with seed 0):
what the architecture groups before any recognition training.
"""
import argparse
import json
import logging
import os.path as osp
import sys
from typing import Dict, List

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import DATASETS, MODELS, DefaultScope
from mmengine.runner import load_checkpoint

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from hieraseg.evaluation.segment_quality import (  # noqa: E402
    best_match_iou, kmeans, patch_segments, superpixel_ceiling_iou)
from hieraseg.utils.checkpoint import use_safe_checkpoint_loading  # noqa: E402
from hieraseg.utils.tools import add_trust_checkpoint_argument  # noqa: E402


def _batches(dataset, batch_size: int):
    for start in range(0, len(dataset), batch_size):
        indices = list(range(start, min(start + batch_size, len(dataset))))
        yield indices, pseudo_collate([dataset[i] for i in indices])


def _masks(dataset, indices, size) -> List[torch.Tensor]:
    masks = []
    for index in indices:
        mask = torch.from_numpy(dataset.get_mask(index))
        if tuple(mask.shape) != tuple(size):
            raise ValueError(f'mask of sample {index} is {tuple(mask.shape)}, the input '
                             f'{tuple(size)}: the evaluation pipeline must not resize')
        masks.append(mask)
    return masks


def _accuracy(samples) -> List[bool]:
    return [bool(s.pred_label.item() == s.gt_label.item()) for s in samples]


@torch.no_grad()
def evaluate_cast(model, dataset, batch_size: int = 50) -> Dict:
    """Accuracy and per-level mean best-match IoU of a ``CASTImageClassifier`` on
    ``dataset`` (a ``ToyObjectsDataset`` whose pipeline ends in ``PackCASTInputs``, no
    resizing). Returns ``dict(accuracy=%, levels=[dict(clusters=k, segments=mean count,
    miou=%)], superpixel_ceiling=%)``; level 0 is the superpixels (``clusters`` None); the
    ceiling is :func:`superpixel_ceiling_iou` of the superpixels, averaged."""
    model.eval()
    correct, ious, counts, ceiling = [], None, None, []
    for indices, data in _batches(dataset, batch_size):
        data = model.data_preprocessor(data, False)
        inputs, samples = data['inputs'], data['data_samples']
        correct += _accuracy(model.predict(inputs, samples))
        segments, _ = model.predict_segments(inputs, samples)  # [B, L + 1, H, W]
        masks = _masks(dataset, indices, inputs.shape[-2:])
        if ious is None:
            ious = [[] for _ in range(segments.shape[1])]
            counts = [[] for _ in range(segments.shape[1])]
        for b, mask in enumerate(masks):
            ceiling.append(superpixel_ceiling_iou(mask, segments[b, 0]))
            for level in range(segments.shape[1]):
                ious[level].append(best_match_iou(mask, segments[b, level]))
                valid = segments[b, level][segments[b, level] >= 0]
                counts[level].append(len(valid.unique()))
    clusters = (None, ) + tuple(model.backbone.num_clusters)
    return dict(
        accuracy=100.0 * sum(correct) / len(correct),
        levels=[dict(clusters=k, segments=sum(c) / len(c), miou=100.0 * sum(i) / len(i))
                for k, c, i in zip(clusters, counts, ious)],
        superpixel_ceiling=100.0 * sum(ceiling) / len(ceiling))


@torch.no_grad()
def evaluate_vit_kmeans(model, dataset, num_clusters, batch_size: int = 50,
                        seed: int = 0) -> Dict:
    """Accuracy of an mmpretrain ``ImageClassifier`` with a ``VisionTransformer`` backbone,
    and the mean best-match IoU of its last patch tokens grouped by k-means into each of
    ``num_clusters`` clusters. Returns the format of :func:`evaluate_cast` (no level 0)."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    correct, ious = [], {k: [] for k in num_clusters}
    backbone = model.backbone
    for indices, data in _batches(dataset, batch_size):
        data = model.data_preprocessor(data, False)
        inputs, samples = data['inputs'], data['data_samples']
        correct += _accuracy(model.predict(inputs, samples))
        out_type, backbone.out_type = backbone.out_type, 'featmap'
        try:
            featmap = backbone(inputs)[-1]  # [B, C, h, w], after the final norm
        finally:
            backbone.out_type = out_type
        tokens = featmap.flatten(2).transpose(1, 2)  # [B, h * w, C]
        masks = _masks(dataset, indices, inputs.shape[-2:])
        for k in num_clusters:
            segments = patch_segments(kmeans(tokens, k, generator=generator),
                                      featmap.shape[-2:], inputs.shape[-2:])
            ious[k] += [best_match_iou(m, s) for m, s in zip(masks, segments)]
    return dict(
        accuracy=100.0 * sum(correct) / len(correct),
        levels=[dict(clusters=k, segments=float(k), miou=100.0 * sum(ious[k]) / len(ious[k]))
                for k in num_clusters])


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
