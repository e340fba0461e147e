"""Explanations of single DNC predictions.

Classification: the IF-THEN rule of the method. The image's feature x is compared with
every sub-centroid; the predicted class c* wins through its most similar sub-centroid k*,
whose exemplar (the nearest real training image, see :mod:`.exemplars`) is shown with
cos(x, p_{c*,k*}) and cos(x, exemplar), next to the best sub-centroid and exemplar of the
runner-up classes.

Segmentation: per pixel, the predicted class and which of its K sub-centroids won.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .dnc_model import CLASSIFICATION, SEGMENTATION, DNCModel
from .inputs import read_image
from .exemplar_file import exemplar_lookup

__all__ = [
    'ClassEvidence', 'ClassificationExplanation', 'SegmentationExplanation',
    'explain_classification', 'explain_segmentation', 'image_to_feature_index', 'WinnerMaps',
    'winner_maps'
]


@dataclass
class ClassEvidence:
    """Why class ``class_id`` scored as it did.

    Attributes:
        logit: the head's logit for the class.
        similarity: cos(x, p_{c,k}) of its winning sub-centroid k (the class score).
        sub_centroid: k.
        exemplar: the exemplar record of (c, k), None if the class had no training sample.
        exemplar_similarity: cos(x, feature of the exemplar).
        exemplar_image: the exemplar image ``[H, W, 3]`` RGB uint8.
    """
    class_id: int
    class_name: str
    logit: float
    similarity: float
    sub_centroid: int
    exemplar: Optional[dict] = None
    exemplar_similarity: Optional[float] = None
    exemplar_image: Optional[np.ndarray] = None

    def describe(self) -> str:
        text = (f"exemplar ({self.class_id} '{self.class_name}', k={self.sub_centroid}) "
                f'[cos(x, p)={self.similarity:.3f}')
        if self.exemplar_similarity is not None:
            text += f', cos(x, exemplar)={self.exemplar_similarity:.3f}'
        text += f', logit {self.logit:.3f}]'
        if self.exemplar is None:
            return text + ' (no exemplar: the class has no training sample)'
        where = self.exemplar.get('img_path') or f"training sample #{self.exemplar['index']}"
        return f'{text} {where}'


@dataclass
class ClassificationExplanation:
    """The IF-THEN rule of one classification."""
    image_path: str
    image: np.ndarray
    prediction: ClassEvidence
    runner_ups: List[ClassEvidence]

    def rule(self) -> str:
        p = self.prediction
        lines = [f'IF x is most like {p.describe()}',
                 f"THEN class {p.class_id} '{p.class_name}'"]
        for rank, r in enumerate(self.runner_ups, start=2):
            lines.append(f"runner-up #{rank}: class {r.class_id} '{r.class_name}' via "
                         f'{r.describe()}')
        return '\n'.join(lines)


def _exemplar_sample(dnc: DNCModel, record: dict, pipeline, cache: dict):
    """(packed sample, RGB image) of an exemplar: its file, else the training set item."""
    path = record.get('img_path')
    if path:
        return dnc.prepare_image(path, pipeline)
    if 'dataset' not in cache:  # in-memory data sets (CIFAR) have no paths
        cache['dataset'] = dnc.build_train_dataset()
    dataset = cache['dataset']
    info = dataset.get_data_info(record['index'])
    image = info.get('img')
    if image is None:
        image = read_image(info['img_path'])
    return dataset[record['index']], np.asarray(image)


@torch.no_grad()
def explain_classification(dnc: DNCModel, image_path: str, exemplars: dict,
                           num_runner_ups: int = 3) -> ClassificationExplanation:
    """Explains the classification of one image.

    Args:
        dnc: a classification model.
        image_path: the image.
        exemplars: the model's exemplar file content (:func:`load_exemplars`).
        num_runner_ups: runner-up classes shown (by logit), at most C - 1.
    """
    if dnc.task != CLASSIFICATION:
        raise ValueError(f'explain_classification needs a classifier, {dnc.config_path} '
                         f'is a {dnc.task} model')
    pipeline = dnc.build_pipeline(with_annotations=False)
    sample, image = dnc.prepare_image(image_path, pipeline)
    emb = dnc.embed([sample])
    x = emb.features  # [1, D]
    sims = dnc.classifier.similarities_embedded(x)[0]  # [C, K]
    logits = emb.logits[0].float()
    ranked = logits.argsort(descending=True)[:1 + max(0, num_runner_ups)].tolist()
    lookup = exemplar_lookup(exemplars)
    names = exemplars.get('classes') or dnc.class_names
    cache: dict = {}
    evidence = []
    for c in ranked:
        k = int(sims[c].argmax())
        record = lookup.get((c, k))
        item = ClassEvidence(c, str(names[c]), float(logits[c]), float(sims[c, k]), k, record)
        if record is not None:
            ex_sample, item.exemplar_image = _exemplar_sample(dnc, record, pipeline, cache)
            ex_feature = dnc.embed([ex_sample]).features
            item.exemplar_similarity = float((x * ex_feature).sum())
        evidence.append(item)
    return ClassificationExplanation(image_path, image, evidence[0], evidence[1:])


def image_to_feature_index(out_size: int, img_size: int, in_size: int,
                           feat_size: int) -> torch.Tensor:
    """For each of ``out_size`` pixels of the original image along one axis, the
    embedding-map cell ``[out_size]`` it falls in (the map covers the padded input of
    ``in_size``, the resized image takes its first ``img_size`` pixels)."""
    centre = (torch.arange(out_size, dtype=torch.float64) + 0.5) * (img_size / out_size)
    return torch.floor(centre * (feat_size / in_size)).long().clamp(0, feat_size - 1)


def default_palette(num_classes: int) -> List[List[int]]:
    rng = np.random.default_rng(42)
    return rng.integers(0, 256, size=(num_classes, 3)).tolist()


@dataclass
class SegmentationExplanation:
    """Per-pixel prediction and winning sub-centroid of one image.

    Attributes:
        image: ``[H, W, 3]`` RGB uint8.
        prediction: ``[H, W]`` class ids (the model's own prediction).
        sub_centroid: ``[H, W]`` the winning sub-centroid k of the predicted class.
        similarity: ``[H, W]`` cos(x, p_{pred, k}) at the pixel's embedding cell.
        exemplars: ``{(c, k): record}`` when an exemplar file was given.
    """
    image_path: str
    image: np.ndarray
    prediction: np.ndarray
    sub_centroid: np.ndarray
    similarity: np.ndarray
    class_names: List[str]
    palette: List[List[int]]
    num_sub_centroids: int
    exemplars: Dict[Tuple[int, int], dict] = field(default_factory=dict)

    def classes_present(self) -> List[int]:
        """Predicted classes, most pixels first."""
        ids, counts = np.unique(self.prediction, return_counts=True)
        return [int(i) for i in ids[np.argsort(-counts, kind='stable')]]

    def summary(self) -> str:
        total = self.prediction.size
        lines = [f'{self.image_path} ({self.prediction.shape[0]}x{self.prediction.shape[1]}'
                 f'): predicted classes, share of pixels, winning sub-centroids']
        for c in self.classes_present():
            mask = self.prediction == c
            ks, counts = np.unique(self.sub_centroid[mask], return_counts=True)
            order = np.argsort(-counts, kind='stable')
            used = ', '.join(f'k={ks[i]} {counts[i] / mask.sum():.0%}' for i in order)
            line = (f"  {c} '{self.class_names[c]}': {mask.sum() / total:.1%} of pixels, "
                    f'mean cos {self.similarity[mask].mean():.3f}; {used}')
            record = self.exemplars.get((c, int(ks[order[0]])))
            if record is not None:
                line += (f"; exemplar of k={ks[order[0]]}: {record.get('img_path')} at "
                         f"pixel (y, x) {tuple(record['pixel'])}")
            lines.append(line)
        return '\n'.join(lines)


@dataclass
class WinnerMaps:
    """What :func:`winner_maps` computes for one image.

    image: ``[H, W, 3]`` RGB uint8 at the prediction's size; prediction: ``[H, W]`` long
    (leaf) classes; best_k / best_sim: ``[h, w, C]`` winning sub-centroid of every class
    (node) and its cosine at each embedding cell; rows / cols: ``[H, W]`` the embedding
    cell of every output pixel; palette: a colour per leaf class.
    """
    image: np.ndarray
    prediction: torch.Tensor
    best_k: torch.Tensor
    best_sim: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor
    palette: List[List[int]]

    def of(self, classes: torch.Tensor):
        """``(sub_centroid, similarity)`` ``[H, W]`` of class map ``classes [H, W]``."""
        return (self.best_k[self.rows, self.cols, classes],
                self.best_sim[self.rows, self.cols, classes])


@torch.no_grad()
def winner_maps(dnc: DNCModel, image_path: str) -> WinnerMaps:
    """The model's prediction of one image and every class's winning sub-centroid."""
    if dnc.task != SEGMENTATION:
        raise ValueError(f'explain_segmentation needs a segmentor, {dnc.config_path} is a '
                         f'{dnc.task} model')
    pipeline = dnc.build_pipeline(with_annotations=False)
    sample, image = dnc.prepare_image(image_path, pipeline)
    prediction = dnc.predict_segmentation(sample).long().cpu()  # [H, W]
    emb = dnc.embed([sample])
    _, height, width, dim = emb.features.shape
    sims = dnc.classifier.similarities_embedded(emb.features.reshape(-1, dim))  # [h*w, C, K]
    best_sim, best_k = sims.max(dim=2)  # [h*w, C]
    best_sim = best_sim.view(height, width, -1).cpu()
    best_k = best_k.view(height, width, -1).cpu()

    meta = emb.data_samples[0].metainfo
    img_shape = tuple(meta['img_shape'][:2])
    out_h, out_w = prediction.shape
    rows = image_to_feature_index(out_h, img_shape[0], emb.inputs_shape[0], height)
    cols = image_to_feature_index(out_w, img_shape[1], emb.inputs_shape[1], width)
    rr, cc = rows[:, None].expand(out_h, out_w), cols[None, :].expand(out_h, out_w)
    if image.shape[:2] != (out_h, out_w):  # the prediction is at the original size
        image = F.interpolate(torch.from_numpy(image).permute(2, 0, 1)[None].float(),
                              size=(out_h, out_w), mode='bilinear')[0]
        image = image.permute(1, 2, 0).round().clamp(0, 255).byte().numpy()
    palette = dnc.dataset_meta.get('palette')
    if not palette or len(palette) < dnc.num_leaves:
        palette = default_palette(dnc.num_leaves)
    return WinnerMaps(image, prediction, best_k, best_sim, rr, cc,
                      [list(map(int, p)) for p in palette])


def explain_segmentation(dnc: DNCModel, image_path: str,
                         exemplars: Optional[dict] = None) -> SegmentationExplanation:
    """The prediction and per-pixel winning sub-centroid map of one image."""
    maps = winner_maps(dnc, image_path)
    sub_centroid, similarity = maps.of(maps.prediction)
    names = (exemplars or {}).get('classes') or dnc.class_names
    return SegmentationExplanation(
        image_path=image_path, image=maps.image, prediction=maps.prediction.numpy(),
        sub_centroid=sub_centroid.numpy(), similarity=similarity.numpy(),
        class_names=[str(n) for n in names], palette=maps.palette,
        num_sub_centroids=dnc.num_sub_centroids,
        exemplars=exemplar_lookup(exemplars) if exemplars else {})


def output_path(image_path: str, out: Optional[str]) -> str:
    """``out``, else ``<image name>.dnc_explain.png`` in the current folder."""
    if out:
        return out
    return osp.splitext(osp.basename(image_path))[0] + '.dnc_explain.png'
