"""Transfer: a DNC ImageNet classifier's checkpoint initialises the backbone of the DNC
segmentation config that names it (and nothing else)."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from hieraseg.utils import adapt_cfg_to_device

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
SEG_CONFIG = osp.join(
    REPO, 'configs/dnc/dnc-deeplabv3_r50-d8_dnc-in1k-pre_4xb2-80k_cityscapes-512x1024.py')
CLS_CONFIG = osp.join(REPO, 'configs/dnc/dnc_resnet50_8xb32_in1k.py')
SMALL = dict(depth=18, stem_channels=16, base_channels=16)  # ResNet-50 is slow to build


def test_dnc_imagenet_checkpoint_initialises_segmentation_backbone(tmp_path):
    from mmpretrain.registry import MODELS as CLS_MODELS
    from mmseg.registry import MODELS as SEG_MODELS

    cls_cfg = Config.fromfile(CLS_CONFIG)
    cls_cfg.model.backbone.update(SMALL)
    cls_cfg.model.head.update(in_channels=128, num_classes=10)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = CLS_MODELS.build(cls_cfg.model)
    torch.manual_seed(0)
    for p in classifier.parameters():  # anything but the default initialisation
        p.data.normal_()
    checkpoint = str(tmp_path / 'dnc_in1k.pth')
    torch.save({'meta': {}, 'state_dict': classifier.state_dict()}, checkpoint)

    seg_cfg = Config.fromfile(SEG_CONFIG)
    seg_cfg.merge_from_dict({'model.backbone.init_cfg.checkpoint': checkpoint})
    seg_cfg.model.backbone.update(SMALL)
    seg_cfg.model.decode_head.update(in_channels=128, channels=16)
    seg_cfg.model.auxiliary_head.update(in_channels=64, channels=16)
    adapt_cfg_to_device(seg_cfg)
    with DefaultScope.overwrite_default_scope('mmseg'):
        segmentor = SEG_MODELS.build(seg_cfg.model)
        centroids_before = segmentor.decode_head.classifier.centroids.clone()
        segmentor.init_weights()

    source = {k[len('backbone.'):]: v for k, v in classifier.state_dict().items()
              if k.startswith('backbone.')}
    target = segmentor.backbone.state_dict()
    assert set(source) == set(target)
    for key, value in source.items():
        assert torch.equal(target[key], value), key
    # The ImageNet head (its sub-centroids) is not carried over.
    assert torch.equal(segmentor.decode_head.classifier.centroids, centroids_before)
