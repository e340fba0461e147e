"""Explanations of a hierarchical DNC segmentation, at every level of the hierarchy.

The model predicts the top-scoring root-to-leaf path per pixel; at level l the predicted
node is that leaf's level-l ancestor, and it won through the most similar of its own K
sub-centroids. Per level this gives a :class:`SegmentationExplanation` (the level's
prediction and winning sub-centroid map, with the level's node names and colours), drawn
as the flat DNC picture, and a :class:`LevelEvidence` per level for one pixel: the node, its
winning sub-centroid, the cosine, and that sub-centroid's exemplar (the nearest real
training pixel, from ``tools/dnc_exemplars.py``). Without a chosen pixel, every predicted
node of every level is explained at its largest connected region (at the region's pixel
most similar to the winning sub-centroid).
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from .dnc_model import DNCModel
from .exemplar_file import exemplar_lookup
from .explain import SegmentationExplanation, winner_maps

__all__ = ['LevelEvidence', 'HieraSegmentationExplanation', 'explain_hiera_segmentation',
           'largest_region', 'level_output_paths']


@dataclass
class LevelEvidence:
    """Why ``pixel`` was predicted ``node_name`` at ``level``.

    Attributes:
        node: the node's index within its level; sub_centroid: its winning k;
        similarity: cos(x, p_{node,k}); exemplar: the exemplar record of (node, k), or None.
    """
    level: int
    level_name: str
    pixel: Tuple[int, int]
    node: int
    node_name: str
    sub_centroid: int
    similarity: float
    exemplar: Optional[dict]

    def describe(self) -> str:
        text = (f'  {self.level_name}: pixel (y, x) {self.pixel} is {self.node_name!r} by '
                f'sub-centroid k={self.sub_centroid} (cos {self.similarity:.3f})')
        if self.exemplar is not None:
            text += (f"; exemplar: {self.exemplar.get('img_path')} at pixel (y, x) "
                     f"{tuple(self.exemplar['pixel'])} (cos to the sub-centroid "
                     f"{self.exemplar['similarity']:.3f})")
        return text


@dataclass
class HieraSegmentationExplanation:
    """One :class:`SegmentationExplanation` per level (finest first; predictions and
    exemplar keys in level-local node indices) and the per-level evidence."""
    image_path: str
    level_names: List[str]
    levels: List[SegmentationExplanation]
    evidence: List[LevelEvidence]

    def summary(self) -> str:
        lines = []
        for name, level in zip(self.level_names, self.levels):
            lines += [f'[{name}] ' + level.summary()]
        lines.append('exemplars behind the prediction, per level:')
        lines += [e.describe() for e in self.evidence]
        return '\n'.join(lines)


def largest_region(mask: np.ndarray) -> np.ndarray:
    """The largest 4-connected region of a boolean mask ``[H, W]`` (same shape)."""
    from scipy import ndimage
    labels, count = ndimage.label(mask)
    if count <= 1:
        return mask
    sizes = np.bincount(labels.ravel())[1:]
    return labels == (1 + int(sizes.argmax()))


def explain_hiera_segmentation(dnc: DNCModel, image_path: str,
                               exemplars: Optional[dict] = None,
                               pixel: Optional[Tuple[int, int]] = None
                               ) -> HieraSegmentationExplanation:
    """Per-level prediction, winning sub-centroid maps and exemplars of one image.

    Args:
        dnc: a loaded hierarchical DNC model (``dnc.hierarchy`` is not None).
        exemplars: the content of its exemplar file (optional).
        pixel: ``(y, x)`` in the original image; None explains every predicted node at
            its largest region.
    """
    hierarchy = dnc.hierarchy
    if hierarchy is None:
        raise ValueError(f'{dnc.config_path}: not a hierarchical DNC model')
    maps = winner_maps(dnc, image_path)
    height, width = maps.prediction.shape
    if pixel is not None and not (0 <= pixel[0] < height and 0 <= pixel[1] < width):
        raise ValueError(f'--pixel {pixel} lies outside the {height}x{width} prediction')
    lookup = exemplar_lookup(exemplars) if exemplars else {}
    levels, evidence = [], []
    for level in range(hierarchy.num_levels):
        offset, size = hierarchy.level_offsets[level], hierarchy.level_sizes[level]
        local = hierarchy.leaf_to_level[level][maps.prediction]  # [H, W] level-local node
        sub_centroid, similarity = maps.of(local + offset)
        records: Dict[Tuple[int, int], dict] = {
            (c - offset, k): r for (c, k), r in lookup.items() if offset <= c < offset + size}
        explanation = SegmentationExplanation(
            image_path=image_path, image=maps.image, prediction=local.numpy(),
            sub_centroid=sub_centroid.numpy(), similarity=similarity.numpy(),
            class_names=list(hierarchy.classes[level]),
            palette=hierarchy.palette_at_level(maps.palette, level),
            num_sub_centroids=dnc.num_sub_centroids, exemplars=records)
        levels.append(explanation)
        if pixel is not None:
            points = [tuple(pixel)]
        else:
            points = []
            for node in explanation.classes_present():
                region = largest_region(explanation.prediction == node)
                best = np.where(region, explanation.similarity, -np.inf).argmax()
                points.append(tuple(int(i) for i in np.unravel_index(best, region.shape)))
        for y, x in points:
            node, k = int(local[y, x]), int(sub_centroid[y, x])
            evidence.append(LevelEvidence(
                level=level, level_name=hierarchy.level_names[level], pixel=(y, x),
                node=node, node_name=hierarchy.classes[level][node], sub_centroid=k,
                similarity=float(similarity[y, x]), exemplar=records.get((node, k))))
    return HieraSegmentationExplanation(image_path, list(hierarchy.level_names), levels,
                                        evidence)


def level_output_paths(out: str, level_names: List[str]) -> List[str]:
    """``A.png`` -> ``A.<level name>.png`` per level."""
    stem, ext = (out[:-4], '.png') if out.lower().endswith('.png') else (out, '.png')
    return [f'{stem}.{name}{ext}' for name in level_names]
