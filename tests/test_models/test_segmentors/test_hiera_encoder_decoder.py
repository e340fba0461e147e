import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from hieraseg.hierarchy import build_hierarchy
from hieraseg.utils import adapt_cfg_to_device

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TOY = 'configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'


def toy_model():
    cfg = Config.fromfile(osp.join(REPO, TOY))
    adapt_cfg_to_device(cfg)
    return MODELS.build(cfg.model).eval(), cfg


def test_predict_returns_consistent_labels_at_every_level(mmseg_scope):
    torch.manual_seed(0)
    model, _ = toy_model()
    hierarchy = build_hierarchy('toy_shapes')
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64),
                                             pad_shape=(64, 64)))
        sample.gt_sem_seg = PixelData(data=torch.zeros(1, 64, 64, dtype=torch.long))
        samples.append(sample)
    with torch.no_grad():
        out = model.predict(torch.randn(2, 3, 64, 64), samples)
    for sample in out:
        leaf = sample.pred_sem_seg.data[0]
        levels = sample.pred_levels.data
        assert levels.shape == (2, 64, 64)
        assert torch.equal(levels[0], leaf)
        # the coarse prediction is the predicted leaf's parent, pixel by pixel
        parents = torch.tensor(hierarchy.parents[0])
        assert torch.equal(levels[1], parents[leaf])
        # and it is the argmax of the path scores, i.e. the top-scoring root-to-leaf path
        assert torch.equal(leaf, sample.seg_logits.data.argmax(0))


def test_needs_an_hssn_head(mmseg_scope):
    _, cfg = toy_model()
    cfg.model.decode_head = dict(
        type='FCNHead', in_channels=128, channels=16, num_classes=6, in_index=3)
    with pytest.raises(TypeError, match='needs an HSSN decode head'):
        MODELS.build(cfg.model)
