import os.path as osp

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from hieraseg.hierarchy import build_hierarchy
from hieraseg.models.utils import leaf_path_scores
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


def sample_with(img_shape, ori_shape, **meta):
    sample = SegDataSample(metainfo=dict(img_shape=img_shape, ori_shape=ori_shape,
                                         pad_shape=img_shape, **meta))
    sample.gt_sem_seg = PixelData(data=torch.zeros(1, *ori_shape, dtype=torch.long))
    return sample


def test_logits_are_resized_to_the_original_image_before_decoding(mmseg_scope):
    """A 64x64 input of a 96x80 original: the path scores are those of the node logits
    resized to 96x80, not resized path scores."""
    torch.manual_seed(0)
    model, _ = toy_model()
    hierarchy = build_hierarchy('toy_shapes')
    inputs = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        node_logits = model.encode_decode(inputs, [dict(img_shape=(64, 64))])
        out = model.predict(inputs, [sample_with((64, 64), (96, 80))])[0]
    assert node_logits.shape == (1, hierarchy.num_nodes, 64, 64)
    resized = torch.nn.functional.interpolate(node_logits, size=(96, 80), mode='bilinear',
                                              align_corners=False)
    expected = leaf_path_scores(resized, hierarchy.leaf_to_node, 'sum')[0]
    torch.testing.assert_close(out.seg_logits.data, expected)
    assert torch.equal(out.pred_sem_seg.data[0], expected.argmax(0))


def test_slide_inference_averages_node_logits(mmseg_scope):
    torch.manual_seed(0)
    model, _ = toy_model()
    inputs = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        model.test_cfg = ConfigDict(mode='slide', crop_size=(64, 64), stride=(32, 32))
        slid = model.inference(inputs, [dict(img_shape=(64, 96), ori_shape=(64, 96))])
        left = model.encode_decode(inputs[..., :64], [dict(img_shape=(64, 64))])
        right = model.encode_decode(inputs[..., 32:], [dict(img_shape=(64, 64))])
    assert slid.shape == (1, 9, 64, 96)  # V = 9 node channels, not 6 path scores
    torch.testing.assert_close(slid[..., :32], left[..., :32])
    torch.testing.assert_close(slid[..., 32:64], (left[..., 32:] + right[..., :32]) / 2)
    torch.testing.assert_close(slid[..., 64:], right[..., 32:])


def test_tta_averages_path_scores_and_predicts_every_level(mmseg_scope):
    torch.manual_seed(0)
    model, _ = toy_model()
    tta = MODELS.build(dict(type='HieraSegTTAModel', module=model))
    hierarchy = build_hierarchy('toy_shapes')
    with torch.no_grad():
        copies = [model.predict(torch.randn(1, 3, 64, 64), [sample_with((64, 64), (64, 64))])[0]
                  for _ in range(3)]
    merged = tta.merge_preds([copies])[0]
    mean_scores = torch.stack([c.seg_logits.data for c in copies]).mean(0)
    torch.testing.assert_close(merged.seg_logits.data, mean_scores)
    leaf = mean_scores.argmax(0)
    assert torch.equal(merged.pred_sem_seg.data[0], leaf)
    assert torch.equal(merged.pred_levels.data[1], torch.tensor(hierarchy.parents[0])[leaf])
