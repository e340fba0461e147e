"""A trained DNC model, as the explanation tools see it: its classifier, data and
feature path.

:class:`DNCModel` (made by :func:`~.model_loading.load_dnc_model`) holds the built model
(mmseg segmentor or mmpretrain classifier) and the :class:`SubCentroidClassifier` that
makes its predictions (``decode_head.classifier`` / ``head.classifier``). It builds the
config's test pipeline and the training set the exemplar search reads, and
:meth:`DNCModel.embed` returns exactly what that classifier compares with its centroids:
its input, captured with a forward pre-hook, L2-normalised.
"""
import copy
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DATASETS, DefaultScope
from torch import Tensor

from hieraseg.models.utils import SubCentroidClassifier
from hieraseg.utils.config_checks import nested_dataset_cfgs
from .inputs import read_image, test_pipeline_cfg, transform_name

__all__ = [
    'CLASSIFICATION', 'SEGMENTATION', 'DNCModel', 'Embedding', 'NotADNCModelError',
    'centroids_sha256'
]

SEGMENTATION = 'segmentation'
CLASSIFICATION = 'classification'
# Dataset wrappers that repeat or resample their dataset: the exemplar pass unwraps them.
_RESAMPLING_WRAPPERS = ('RepeatDataset', 'ClassBalancedDataset')


class NotADNCModelError(ValueError):
    """A checkpoint or config without DNC sub-centroids."""


@dataclass
class Embedding:
    """The classifier's view of a batch.

    Attributes:
        features: unit features, ``[B, D]`` (classification) or ``[B, h, w, D]``
            (segmentation, the embedding map).
        logits: the head's logits, ``[B, C]`` or ``[B, C, h, w]``.
        inputs_shape: ``(H_in, W_in)`` of the preprocessed (possibly padded) input batch.
        data_samples: the preprocessed data samples (metainfo, ground truth).
    """
    features: Tensor
    logits: Tensor
    inputs_shape: Tuple[int, int]
    data_samples: list


def centroids_sha256(centroids: Tensor) -> str:
    """A hash of a centroid tensor ``[C, K, D]`` (shape and float32 values)."""
    array = centroids.detach().float().cpu().contiguous().numpy()
    digest = hashlib.sha256(repr(tuple(array.shape)).encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


@dataclass
class DNCModel:
    """A built, loaded DNC model in eval mode.

    Attributes:
        cfg: the config.
        model: the segmentor / classifier.
        task: :data:`SEGMENTATION` or :data:`CLASSIFICATION`.
        classifier: the sub-centroid classifier that makes the predictions.
        classifier_name: its module name, e.g. ``'decode_head.classifier'``.
        config_path, checkpoint_path: where they were read from.
        centroids_key: key of its centroids in the checkpoint's state dict.
        dataset_meta: ``classes`` (and ``palette``) from the checkpoint or the config.
    """
    cfg: Config
    model: nn.Module
    task: str
    classifier: SubCentroidClassifier
    classifier_name: str
    config_path: str
    checkpoint_path: str
    centroids_key: str
    dataset_meta: dict

    @property
    def num_classes(self) -> int:
        return self.classifier.num_classes

    @property
    def hierarchy(self):
        """The class hierarchy of a hierarchical DNC model (sub-centroids for every node,
        ``num_classes`` = V nodes), else None."""
        return getattr(self.classifier, 'hierarchy', None)

    @property
    def num_leaves(self) -> int:
        """The label classes (the hierarchy's leaves, or ``num_classes``)."""
        return self.hierarchy.num_leaves if self.hierarchy is not None else self.num_classes

    @property
    def num_sub_centroids(self) -> int:
        return self.classifier.num_sub_centroids

    @property
    def feat_dim(self) -> int:
        return self.classifier.feat_dim

    @property
    def device(self) -> torch.device:
        return self.classifier.centroids.device

    @property
    def class_names(self) -> List[str]:
        """A name per class (per node, in the node layout, for a hierarchical model)."""
        if self.hierarchy is not None:
            return [str(n) for level in self.hierarchy.classes for n in level]
        names = list(self.dataset_meta.get('classes') or [])
        if len(names) != self.num_classes:
            names = [f'class {i}' for i in range(self.num_classes)]
        return [str(n) for n in names]

    def centroids_sha256(self) -> str:
        return centroids_sha256(self.classifier.centroids)

    @contextmanager
    def scope(self):
        """The config's default registry scope (mmseg / mmpretrain) for building."""
        with DefaultScope.overwrite_default_scope(self.cfg.get('default_scope')):
            yield

    # --- data --------------------------------------------------------------------------
    def build_pipeline(self, with_annotations: bool) -> Compose:
        """The config's test pipeline (without ``LoadAnnotations`` unless asked)."""
        pipeline = test_pipeline_cfg(self.cfg)
        if not with_annotations:
            pipeline = [t for t in pipeline if transform_name(t) != 'LoadAnnotations']
        with self.scope():
            return Compose(pipeline)

    def prepare_image(self, path: str,
                      pipeline: Optional[Compose] = None) -> Tuple[dict, np.ndarray]:
        """An image file -> (one packed sample for :meth:`embed`, the image ``[H, W, 3]``
        RGB uint8). The file is decoded first, so that an unreadable image is a clear
        error rather than an assertion deep in the pipeline."""
        rgb = read_image(path, channel_order='rgb')
        pipeline = pipeline or self.build_pipeline(with_annotations=False)
        transforms = list(pipeline.transforms)
        if transforms and type(transforms[0]).__name__ == 'LoadImageFromFile':
            results = dict(img_path=path)
        else:
            # In-memory data sets (CIFAR) hold RGB arrays and have no loading transform.
            results = dict(img=rgb, img_path=path, img_shape=rgb.shape[:2],
                           ori_shape=rgb.shape[:2])
        packed = pipeline(results)
        if packed is None:
            raise ValueError(f'the test pipeline dropped image {path!r}')
        return packed, rgb

    def train_dataset_cfg(self) -> dict:
        """The training set's config with the TEST pipeline (deterministic features) and
        without repeating / class-balancing wrappers."""
        loader = self.cfg.get('train_dataloader')
        if not loader or not isinstance(loader.get('dataset'), dict):
            raise ValueError(f'config {self.config_path} has no train_dataloader.dataset')
        dataset = copy.deepcopy(loader['dataset'])
        while transform_name(dataset) in _RESAMPLING_WRAPPERS:
            dataset = dataset['dataset']
        pipeline = test_pipeline_cfg(self.cfg)
        for _, inner in nested_dataset_cfgs(dataset):
            if 'pipeline' in inner:
                inner['pipeline'] = self._with_annotations(pipeline, inner['pipeline'])
        return dataset

    def _with_annotations(self, test_pipeline: List[dict], train_pipeline) -> List[dict]:
        """The test pipeline, with the training pipeline's ``LoadAnnotations`` put before
        the packing transform if it has none (segmentation needs the label maps)."""
        pipeline = copy.deepcopy(test_pipeline)
        if self.task != SEGMENTATION or any(
                transform_name(t) == 'LoadAnnotations' for t in pipeline):
            return pipeline
        loading = [t for t in train_pipeline or [] if transform_name(t) == 'LoadAnnotations']
        if not loading:
            raise ValueError(f'config {self.config_path}: neither the test nor the training '
                             'pipeline loads annotations (LoadAnnotations); the exemplar '
                             'search needs the training labels')
        pipeline.insert(len(pipeline) - 1, copy.deepcopy(loading[0]))
        return pipeline

    def build_train_dataset(self):
        with self.scope():
            return DATASETS.build(self.train_dataset_cfg())

    # --- features ------------------------------------------------------------------------
    def _capture(self, forward: Callable[[], Tensor]) -> Tuple[Tensor, Tensor]:
        """Runs ``forward`` and returns (its output, the classifier's input)."""
        captured = []
        handle = self.classifier.register_forward_pre_hook(
            lambda module, args: captured.append(args[0]))
        try:
            output = forward()
        finally:
            handle.remove()
        if len(captured) != 1:
            raise RuntimeError(f'expected one call of {self.classifier_name} in a forward, '
                               f'got {len(captured)}')
        return output, captured[0]

    @torch.no_grad()
    def embed(self, samples: list) -> Embedding:
        """Features of a list of packed samples (dataset items), in eval mode."""
        data = self.model.data_preprocessor(pseudo_collate(samples), False)
        inputs, data_samples = data['inputs'], data['data_samples']
        feats = self.model.extract_feat(inputs)
        if self.task == CLASSIFICATION:
            logits, x = self._capture(lambda: self.model.head(feats))
            features = self.classifier.embed(x.float())
        else:
            logits, flat = self._capture(lambda: self.model.decode_head(feats))
            batch, _, height, width = logits.shape
            features = self.classifier.embed(flat.float()).view(batch, height, width, -1)
        return Embedding(features, logits, tuple(inputs.shape[-2:]), data_samples)

    @torch.no_grad()
    def predict_segmentation(self, sample: dict) -> Tensor:
        """The model's own prediction ``[H, W]`` (original image size) of one sample."""
        data = self.model.data_preprocessor(pseudo_collate([sample]), False)
        result = self.model.predict(data['inputs'], data['data_samples'])[0]
        return result.pred_sem_seg.data[0]
