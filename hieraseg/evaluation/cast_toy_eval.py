"""Evaluation of CAST against a ViT of its size on the toy objects (issue #14, item 6a):
classification accuracy, and for every segmentation level the mean best-match IoU between
the ground-truth object masks and the segments, found without any mask supervision.

* CAST: level 0 = the superpixels alone, levels 1..L = the composed graph-pooling levels.
* ViT: its last patch tokens grouped by k-means into as many clusters as each CAST level.
"""
from typing import Dict, List

import torch
from mmengine.dataset import pseudo_collate

from .segment_quality import (best_match_iou, kmeans, patch_segments,
                              superpixel_ceiling_iou)


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
