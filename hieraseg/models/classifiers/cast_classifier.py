"""mmpretrain classifier that feeds each image's superpixel map to a CAST backbone."""
from typing import List, Optional, Tuple

import torch
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from hieraseg.models.backbones.cast import compose_segments
from hieraseg.models.utils.superpixel_inputs import stack_superpixels

__all__ = ['CASTImageClassifier']


@MODELS.register_module()
class CASTImageClassifier(ImageClassifier):
    """:class:`ImageClassifier` for :class:`CAST`: reads ``data_samples[i].superpixels``.

    Every data sample must carry ``superpixels``, a ``[H, W]`` long map of the (padded)
    input image's size, ids ``0..S-1`` and ``-1`` on padding (the ``Superpixels``
    transform and the data preprocessor put it there). Heads see the backbone's class
    token as any ViT head would (``LinearClsHead``, ``VisionTransformerClsHead``,
    ``DNCClsHead``). Arguments are those of :class:`ImageClassifier` (batch augmentations
    that paste regions, e.g. CutMix, need a preprocessor that moves the maps too, such as
    ``CASTClsDataPreprocessor``).
    """

    def forward(self, inputs: Tensor, data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """As :meth:`ImageClassifier.forward`; ``'tensor'`` mode needs data samples too."""
        if mode == 'tensor':
            feats = self.extract_feat(inputs, data_samples)
            return self.head(feats) if self.with_head else feats
        return super().forward(inputs, data_samples, mode)

    def extract_feat(self, inputs: Tensor, data_samples: Optional[List[DataSample]] = None,
                     stage: str = 'neck'):
        """Backbone (+ neck, + ``pre_logits``) features of ``inputs [B, 3, H, W]`` with the
        superpixels of ``data_samples``; ``stage`` as in :class:`ImageClassifier`."""
        if stage not in ('backbone', 'neck', 'pre_logits'):
            raise ValueError(f'invalid stage {stage!r}')
        x = self.backbone(inputs, stack_superpixels(data_samples, inputs))
        if stage == 'backbone':
            return x
        if self.with_neck:
            x = self.neck(x)
        if stage == 'neck':
            return x
        return self.head.pre_logits(x)

    def loss(self, inputs: Tensor, data_samples: List[DataSample]) -> dict:
        return self.head.loss(self.extract_feat(inputs, data_samples), data_samples)

    def predict(self, inputs: Tensor, data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        feats = self.extract_feat(inputs, data_samples)
        return self.head.predict(feats, data_samples, **kwargs)

    @torch.no_grad()
    def predict_segments(self, inputs: Tensor, data_samples: List[DataSample]
                         ) -> Tuple[Tensor, List[Tensor]]:
        """Hierarchical segmentation of a batch.

        Returns:
            tuple: ``segments [B, L + 1, H, W]`` long (level 0 = the superpixels, then
            one level per graph pooling; nested; ``-1`` on padding, see
            :func:`compose_segments`) and the soft assignments ``[B, N_l, N_{l+1}]``.
        """
        superpixels = stack_superpixels(data_samples, inputs)
        _, assignments = self.backbone(inputs, superpixels, return_assignments=True)
        return compose_segments(superpixels, assignments), assignments
