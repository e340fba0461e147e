"""Every model kind's per-level confidences against a direct computation from its logits,
with and without temperatures, and the metric's ECE keys from the real predictions."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from hieraseg.evaluation import HierarchicalIoUMetric, expected_calibration_error
from hieraseg.hierarchy import TOY_SHAPES_CLASSES, build_hierarchy
from hieraseg.utils import adapt_cfg_to_device

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
HIERARCHY = build_hierarchy('toy_shapes')  # 6 textures -> 3 colours
FLAT = 'configs/hssn/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
FLAT_DNC = 'configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
HSSN = 'configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
HIERA_DNC = 'configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'


def build(config, flat_hiera=True, **test_cfg):
    cfg = Config.fromfile(osp.join(REPO, config))
    adapt_cfg_to_device(cfg)
    if flat_hiera and cfg.model.type == 'EncoderDecoder':
        cfg.model.type = 'FlatHieraEncoderDecoder'
        cfg.model.hierarchy = 'toy_shapes'
    cfg.model.test_cfg.update(test_cfg)
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


def samples(size=(48, 40), num=2):
    """Samples of 32x32 inputs from ``size`` originals, with random labels."""
    generator = torch.Generator().manual_seed(1)
    out = []
    for _ in range(num):
        sample = SegDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=size,
                                             pad_shape=(32, 32)))
        label = torch.randint(0, 6, size, generator=generator)
        label[torch.rand(size, generator=generator) < 0.1] = 255
        sample.gt_sem_seg = PixelData(data=label[None])
        out.append(sample)
    return out


def original_size_logits(model, inputs, size):
    """The model's leaf / node logits at the original image size, computed here."""
    logits = model.encode_decode(inputs, [dict(img_shape=(32, 32))] * len(inputs))
    return F.interpolate(logits, size=size, mode='bilinear', align_corners=False)


def direct_confidences(kind, logits, leaf, temperatures):
    """``[L, H, W]``: flat -> softmax, parents sum their leaves; HSSN -> sigmoid of the
    chosen path's node; hierarchical DNC -> softmax over each level's node logits."""
    rows = []
    for level, t in enumerate(temperatures):
        ancestor = HIERARCHY.leaf_to_level[level][leaf]
        if kind == 'flat':
            leaf_probs = (logits / t).softmax(0)
            members = [HIERARCHY.leaf_to_level[level] == node
                       for node in range(HIERARCHY.level_sizes[level])]
            probs = torch.stack([leaf_probs[m].sum(0) for m in members])
        else:
            node_logits = logits[HIERARCHY.level_slice(level)] / t
            probs = node_logits.sigmoid() if kind == 'hssn' else node_logits.softmax(0)
        rows.append(probs.gather(0, ancestor[None])[0])
    return torch.stack(rows)


@pytest.mark.parametrize('config,kind', [(FLAT, 'flat'), (FLAT_DNC, 'flat'), (HSSN, 'hssn'),
                                         (HIERA_DNC, 'hiera_dnc')])
def test_level_confidences_equal_a_direct_computation(config, kind, mmseg_scope):
    inputs = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    temperatures = [2.5, 0.4]
    with torch.no_grad():
        plain = build(config).predict(inputs, samples())
        model = build(config, level_temperatures=temperatures)
        tempered = model.predict(inputs, samples())
        logits = original_size_logits(model, inputs, (48, 40))
    metric = HierarchicalIoUMetric(calibration_bins=15)
    metric.dataset_meta = dict(classes=TOY_SHAPES_CLASSES, hierarchy='toy_shapes')
    metric.process({}, [sample.to_dict() for sample in tempered])
    result = metric.compute_metrics(metric.results)
    conf, correct = [], []
    for index, (before, after) in enumerate(zip(plain, tempered)):
        # temperatures change no prediction, at any level
        assert torch.equal(before.pred_sem_seg.data, after.pred_sem_seg.data)
        assert torch.equal(before.pred_levels.data, after.pred_levels.data)
        leaf = after.pred_sem_seg.data[0]
        expected = direct_confidences(kind, logits[index], leaf, temperatures)
        torch.testing.assert_close(after.level_confidences.data, expected)
        torch.testing.assert_close(before.level_confidences.data,
                                   direct_confidences(kind, logits[index], leaf, [1, 1]))
        assert not torch.allclose(before.level_confidences.data, after.level_confidences.data)
        label = after.gt_sem_seg.data[0]
        valid = label != 255
        conf.append(expected[0][valid])
        correct.append(leaf[valid] == label[valid])
    assert result['ECE_texture'] == round(
        expected_calibration_error(torch.cat(conf), torch.cat(correct)) * 100, 2)
    assert {'ECE_colour', 'cwECE_texture', 'cwECE_colour'} <= set(result)


def test_a_plain_encoder_decoder_gets_the_flat_confidences_in_the_metric(mmseg_scope):
    inputs = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        plain = build(FLAT, flat_hiera=False).predict(inputs, samples(num=1))[0]
        flat = build(FLAT).predict(inputs, samples(num=1))[0]
    assert 'level_confidences' not in plain
    metric_results = []
    for sample in (plain, flat):
        metric = HierarchicalIoUMetric(calibration_bins=10)
        metric.dataset_meta = dict(classes=TOY_SHAPES_CLASSES, hierarchy='toy_shapes')
        metric.process({}, [sample.to_dict()])
        metric_results.append(metric.compute_metrics(metric.results))
    assert metric_results[0] == metric_results[1]
    assert np.isfinite(metric_results[0]['cwECE_colour'])


def test_bad_test_cfg_fails_when_the_model_is_built(mmseg_scope):
    with pytest.raises(ValueError, match='level_temperatures has 1 values, the hierarchy has 2'):
        build(HSSN, level_temperatures=[1.0])
    with pytest.raises(ValueError, match='must be positive finite numbers'):
        build(FLAT, level_temperatures=[1.0, 0])
    with pytest.raises(ValueError, match="level_probability='leaf_softmax' does not apply"):
        build(HSSN, level_probability='leaf_softmax')
    with pytest.raises(ValueError, match="unknown level probability 'softmax'"):
        build(HIERA_DNC, level_probability='softmax')


def test_hssn_can_report_level_softmax_instead(mmseg_scope):
    inputs = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        model = build(HSSN, level_probability='level_softmax')
        out = model.predict(inputs, samples(num=1))[0]
        logits = original_size_logits(model, inputs, (48, 40))[0]
    torch.testing.assert_close(out.level_confidences.data, direct_confidences(
        'hiera_dnc', logits, out.pred_sem_seg.data[0], [1, 1]))
    assert isinstance(model.test_cfg, ConfigDict)
