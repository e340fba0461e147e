"""Real training samples nearest to each DNC sub-centroid ("real observations").

One pass over the training set (its TEST pipeline, model in eval mode) keeps, for every
class c and sub-centroid k, the training sample of class c whose classifier feature is
most similar to ``p_{c,k}``. For a hierarchical DNC model the "classes" are all nodes of
the hierarchy: a pixel is a sample of every node on its label's root-to-leaf path, so the
exemplar of a coarse node's sub-centroid is the nearest pixel of any of its leaves. A
sample is an image for classification and one position of the embedding map (a pixel of
the feature map, i.e. a small region of the image) for segmentation. The search is
vectorised per batch: similarities of the batch's features to all C*K centroids, then a
scatter-max per (c, k) slot.

The result is written to the exemplar file by :mod:`.exemplar_file`; :mod:`.real_observation`
makes the paper's "real observation" checkpoint from it.
"""
import sys
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from .dnc_model import SEGMENTATION, DNCModel

__all__ = ['ExemplarSearchResult', 'NearestSampleSearch', 'feature_pixel_grid',
           'find_exemplars', 'similarity_summary']

# Columns of the per-sample info rows the search keeps for each winner.
CLS_INFO = ('index', )
SEG_INFO = ('index', 'feature_y', 'feature_x', 'feature_h', 'feature_w', 'y', 'x')


class NearestSampleSearch:
    """Running nearest sample of its own class for every sub-centroid.

    Args:
        centroids (Tensor): ``[C, K, D]`` unit sub-centroids.
        info_width (int): M, the width of the per-sample info rows kept for winners.
        chunk_size (int): rows of the ``[rows, C*K]`` similarity matrix computed at once.

    After the updates: ``similarity [C, K]`` (-inf where class c had no sample),
    ``info [C, K, M]``, ``features [C, K, D]`` and ``found [C, K]``.
    """

    def __init__(self, centroids: Tensor, info_width: int, chunk_size: int = 16384):
        self.num_classes, self.num_sub, self.dim = centroids.shape
        self.flat = centroids.reshape(-1, self.dim).float()
        slots = self.num_classes * self.num_sub
        device = centroids.device
        self.best = torch.full((slots, ), float('-inf'), device=device)
        self.best_info = torch.full((slots, info_width), -1, dtype=torch.long, device=device)
        self.best_features = torch.zeros(slots, self.dim, device=device)
        self.chunk_size = chunk_size

    def update(self, features: Tensor, labels: Tensor, info: Tensor) -> None:
        """Offer a batch of samples.

        Args:
            features (Tensor): ``[N, D]`` unit features.
            labels (Tensor): ``[N]`` class ids; samples outside ``[0, C)`` are skipped.
            info (Tensor): ``[N, M]`` long, kept for the samples that win a slot.
        """
        keep = (labels >= 0) & (labels < self.num_classes)
        features, labels, info = features[keep].float(), labels[keep].long(), info[keep]
        if features.shape[0] == 0:
            return
        own = torch.cat([self._own_similarities(f, l) for f, l in zip(
            features.split(self.chunk_size), labels.split(self.chunk_size))])  # [N, K]
        n, k = own.shape
        slot = (labels[:, None] * k + torch.arange(k, device=own.device)).reshape(-1)
        own = own.reshape(-1)
        batch_best = torch.full_like(self.best, float('-inf')).scatter_reduce(
            0, slot, own, reduce='amax')
        # The first sample (in batch order) that attains its slot's maximum.
        position = torch.arange(n, device=own.device).repeat_interleave(k)
        hits = own == batch_best[slot]
        first = torch.full_like(self.best, n, dtype=torch.long).scatter_reduce(
            0, slot[hits], position[hits], reduce='amin')
        better = batch_best > self.best  # strict: earlier batches win ties
        winners = first[better]
        self.best[better] = batch_best[better]
        self.best_info[better] = info[winners]
        self.best_features[better] = features[winners]

    def _own_similarities(self, features: Tensor, labels: Tensor) -> Tensor:
        """``[n, K]`` cosine similarities of features to their own class's centroids."""
        sims = (features @ self.flat.t()).view(-1, self.num_classes, self.num_sub)
        index = labels.view(-1, 1, 1).expand(-1, 1, self.num_sub)
        return sims.gather(1, index).squeeze(1)

    @property
    def found(self) -> Tensor:
        return torch.isfinite(self.best).view(self.num_classes, self.num_sub)

    @property
    def similarity(self) -> Tensor:
        return self.best.view(self.num_classes, self.num_sub)

    @property
    def info(self) -> Tensor:
        return self.best_info.view(self.num_classes, self.num_sub, -1)

    @property
    def features(self) -> Tensor:
        return self.best_features.view(self.num_classes, self.num_sub, self.dim)


def feature_pixel_grid(feature_size: Tuple[int, int], inputs_shape: Tuple[int, int],
                       img_shape: Tuple[int, int], target_shape: Tuple[int, int]):
    """Where the embedding map's cells fall in an image-sized map.

    The embedding map ``[h, w]`` covers the (possibly padded) input ``inputs_shape``; the
    image occupies its top-left ``img_shape`` (after the test pipeline's resize) and
    corresponds to a ``target_shape`` map (the original image, or its label map). Each
    cell's centre is mapped.

    Returns:
        rows ``[h]`` and cols ``[w]`` (long) in the target map, and valid_rows ``[h]`` /
        valid_cols ``[w]`` (bool, False for cells over padding).
    """
    out = []
    for size, in_size, img_size, target in zip(feature_size, inputs_shape, img_shape,
                                               target_shape):
        centre = (torch.arange(size, dtype=torch.float64) + 0.5) * (in_size / size)
        valid = centre < img_size
        index = torch.floor(centre * (target / img_size)).long().clamp(0, target - 1)
        out.append((index, valid))
    (rows, valid_rows), (cols, valid_cols) = out
    return rows, cols, valid_rows, valid_cols


def _segmentation_batch(emb, first_index: int, num_classes: int):
    """Flattened ``(features [N, D], labels [N], info [N, 7])`` of an embedding batch."""
    batch, height, width, _ = emb.features.shape
    labels, info = [], []
    fy, fx = torch.meshgrid(torch.arange(height), torch.arange(width), indexing='ij')
    for b, sample in enumerate(emb.data_samples):
        meta = sample.metainfo
        img_shape = tuple(meta['img_shape'][:2])
        ori_shape = tuple(meta.get('ori_shape', img_shape)[:2])
        gt = sample.gt_sem_seg.data[0].cpu()
        rows, cols, vr, vc = feature_pixel_grid((height, width), emb.inputs_shape,
                                                img_shape, tuple(gt.shape))
        label = gt[rows[:, None], cols[None, :]].long()
        label[~(vr[:, None] & vc[None, :])] = -1  # padding
        label[(label < 0) | (label >= num_classes)] = -1  # ignore index
        oy, ox, _, _ = feature_pixel_grid((height, width), emb.inputs_shape, img_shape,
                                          ori_shape)
        labels.append(label.reshape(-1))
        columns = [torch.full_like(fy, first_index + b), fy, fx,
                   torch.full_like(fy, height), torch.full_like(fy, width),
                   oy[:, None].expand(height, width), ox[None, :].expand(height, width)]
        info.append(torch.stack(columns, dim=-1).reshape(-1, len(SEG_INFO)))
    device = emb.features.device
    return (emb.features.reshape(-1, emb.features.shape[-1]),
            torch.cat(labels).to(device), torch.cat(info).to(device))


def _classification_batch(emb, first_index: int):
    labels = torch.cat([s.gt_label.reshape(-1)[:1] for s in emb.data_samples])
    index = torch.arange(first_index, first_index + len(emb.data_samples))
    device = emb.features.device
    return emb.features, labels.to(device), index[:, None].to(device)


@dataclass
class ExemplarSearchResult:
    """What :func:`find_exemplars` found.

    Attributes:
        search: the finished :class:`NearestSampleSearch`.
        records: one JSON-ready dict per found (c, k).
        missing: ``[(c, k)]`` without any training sample of class c.
        num_samples: images in the training set.
        dataset_type: its type name.
        classes: its class names.
    """
    search: NearestSampleSearch
    records: List[dict]
    missing: List[Tuple[int, int]]
    num_samples: int
    dataset_type: str
    classes: List[str]


def _data_info(dataset, index: int) -> dict:
    try:
        return dataset.get_data_info(index) or {}
    except Exception:  # a wrapper without get_data_info: paths stay unknown
        return {}


def find_exemplars(dnc: DNCModel,
                   batch_size: Optional[int] = None,
                   num_workers: int = 0,
                   progress: bool = True) -> ExemplarSearchResult:
    """One pass over the training set: the nearest sample of class c to each ``p_{c,k}``.

    Args:
        dnc: the loaded model.
        batch_size: images per forward; defaults to the config's test batch size.
        num_workers: data loading workers.
        progress: show a progress bar (tqdm, on stderr, when stderr is a terminal).
    """
    from tqdm import tqdm

    from hieraseg.utils.progress import on_terminal
    dataset = dnc.build_train_dataset()
    if batch_size is None:
        batch_size = int((dnc.cfg.get('test_dataloader') or {}).get('batch_size', 1))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False,
                        num_workers=num_workers, collate_fn=list)
    seg = dnc.task == SEGMENTATION
    search = NearestSampleSearch(dnc.classifier.centroids.detach(),
                                 len(SEG_INFO if seg else CLS_INFO))
    seen = 0
    # one row per level: the level's node (global index) of every leaf label
    paths = dnc.hierarchy.leaf_to_node.to(dnc.device) if dnc.hierarchy is not None else None
    with tqdm(total=len(dataset), unit='img', desc='exemplar search',
              disable=not (progress and on_terminal(sys.stderr))) as bar:
        for samples in loader:
            emb = dnc.embed(samples)
            if seg:
                features, labels, info = _segmentation_batch(emb, seen, dnc.num_leaves)
            else:
                features, labels, info = _classification_batch(emb, seen)
            if paths is None:
                search.update(features, labels, info)
            else:  # every node on the label's path; -1 (no label) stays -1
                for nodes in paths:
                    search.update(features, torch.where(labels >= 0, nodes[labels.clamp(
                        min=0)], labels), info)
            seen += len(samples)
            bar.update(len(samples))

    classes = [str(c) for c in (dataset.metainfo.get('classes') or dnc.class_names)]
    if len(classes) != dnc.num_classes:
        classes = dnc.class_names
    records, missing = [], []
    if dnc.hierarchy is not None:
        node_level = [level for level, size in enumerate(dnc.hierarchy.level_sizes)
                      for _ in range(size)]
    found = search.found.cpu()
    sims, infos = search.similarity.cpu(), search.info.cpu()
    for c in range(dnc.num_classes):
        for k in range(dnc.num_sub_centroids):
            if not found[c, k]:
                missing.append((c, k))
                continue
            row = dict(zip(SEG_INFO if seg else CLS_INFO, infos[c, k].tolist()))
            info = _data_info(dataset, row['index'])
            record = dict(**{'class': c}, class_name=classes[c], sub_centroid=k,
                          similarity=float(sims[c, k]), index=row['index'],
                          img_path=info.get('img_path'))
            if dnc.hierarchy is not None:
                record['level'] = int(node_level[c])
            if seg:
                record.update(seg_map_path=info.get('seg_map_path'),
                              pixel=[row['y'], row['x']],
                              feature_pixel=[row['feature_y'], row['feature_x']],
                              feature_size=[row['feature_h'], row['feature_w']])
            records.append(record)
    return ExemplarSearchResult(search=search, records=records, missing=missing,
                                num_samples=len(dataset), dataset_type=type(dataset).__name__,
                                classes=classes)


def similarity_summary(result: ExemplarSearchResult) -> str:
    sims = np.array([r['similarity'] for r in result.records])
    if sims.size == 0:
        return 'no exemplars found'
    return (f'{sims.size} exemplars, cos(exemplar, sub-centroid): mean {sims.mean():.3f}, '
            f'min {sims.min():.3f}, max {sims.max():.3f}')
