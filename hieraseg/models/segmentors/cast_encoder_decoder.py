"""mmseg EncoderDecoder that feeds each image's superpixel map to a CAST backbone."""
from typing import List, Optional

import torch.nn.functional as F
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from hieraseg.models.backbones.cast import relabel_superpixels
from hieraseg.models.utils.superpixel_inputs import stack_superpixels

__all__ = ['CASTEncoderDecoder']


@MODELS.register_module()
class CASTEncoderDecoder(EncoderDecoder):
    """:class:`EncoderDecoder` for :class:`CAST` (``out_type='featmap'``).

    Reads ``data_samples[i].superpixels`` (``[H, W]`` long of the padded input's size,
    ``-1`` on padding) and passes the stacked maps with the images to the backbone.
    Whole and slide inference: a sliding window crops the superpixel map with the image
    and relabels the remaining ids to be contiguous. Arguments are those of
    :class:`EncoderDecoder`. Test-time augmentation through ``aug_test`` is not
    supported (use mmseg's TTA model with a pipeline that keeps the superpixels).
    """

    def extract_feat(self, inputs: Tensor, superpixels: Optional[Tensor] = None
                     ) -> List[Tensor]:
        """Backbone (+ neck) features of ``inputs [B, 3, H, W]`` with ``superpixels
        [B, H, W]``."""
        x = self.backbone(inputs, superpixels)
        if self.with_neck:
            x = self.neck(x)
        return x

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict],
                      superpixels: Optional[Tensor] = None) -> Tensor:
        x = self.extract_feat(inputs, superpixels)
        return self.decode_head.predict(x, batch_img_metas, self.test_cfg)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        x = self.extract_feat(inputs, stack_superpixels(data_samples, inputs))
        losses = dict()
        losses.update(self._decode_head_forward_train(x, data_samples))
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(x, data_samples))
        return losses

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        superpixels = stack_superpixels(data_samples, inputs)
        batch_img_metas = [sample.metainfo for sample in data_samples]
        seg_logits = self.inference(inputs, batch_img_metas, superpixels)
        return self.postprocess_result(seg_logits, data_samples)

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None) -> Tensor:
        x = self.extract_feat(inputs, stack_superpixels(data_samples, inputs))
        return self.decode_head.forward(x)

    def inference(self, inputs: Tensor, batch_img_metas: List[dict],
                  superpixels: Optional[Tensor] = None) -> Tensor:
        """Whole or slide inference (``test_cfg.mode``) -> logits ``[B, K, H, W]``."""
        mode = self.test_cfg.get('mode', 'whole')
        if mode not in ('slide', 'whole'):
            raise ValueError(f"test_cfg.mode must be 'slide' or 'whole', got {mode!r}")
        if mode == 'slide':
            return self.slide_inference(inputs, batch_img_metas, superpixels)
        return self.whole_inference(inputs, batch_img_metas, superpixels)

    def whole_inference(self, inputs: Tensor, batch_img_metas: List[dict],
                        superpixels: Optional[Tensor] = None) -> Tensor:
        return self.encode_decode(inputs, batch_img_metas, superpixels)

    def slide_inference(self, inputs: Tensor, batch_img_metas: List[dict],
                        superpixels: Optional[Tensor] = None) -> Tensor:
        """Sliding-window inference as mmseg's, the superpixel map cropped and relabelled
        with every window."""
        if superpixels is None:
            raise ValueError('slide inference needs the superpixel maps: the data '
                             'pipeline lacks the `Superpixels` transform')
        h_stride, w_stride = self.test_cfg['stride']
        h_crop, w_crop = self.test_cfg['crop_size']
        batch_size, _, h_img, w_img = inputs.size()
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        preds = inputs.new_zeros((batch_size, self.out_channels, h_img, w_img))
        count_mat = inputs.new_zeros((batch_size, 1, h_img, w_img))
        for h_idx in range(h_grids):
            for w_idx in range(w_grids):
                y2 = min(h_idx * h_stride + h_crop, h_img)
                x2 = min(w_idx * w_stride + w_crop, w_img)
                y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
                crop_img = inputs[:, :, y1:y2, x1:x2]
                crop_sp = relabel_superpixels(superpixels[:, y1:y2, x1:x2])
                batch_img_metas[0]['img_shape'] = crop_img.shape[2:]
                crop_logit = self.encode_decode(crop_img, batch_img_metas, crop_sp)
                preds += F.pad(crop_logit, (int(x1), int(w_img - x2), int(y1),
                                            int(h_img - y2)))
                count_mat[:, :, y1:y2, x1:x2] += 1
        return preds / count_mat

    def aug_test(self, inputs, batch_img_metas, rescale=True):
        raise NotImplementedError('CASTEncoderDecoder has no aug_test: use a TTA model '
                                  'whose pipeline keeps the superpixel maps')
