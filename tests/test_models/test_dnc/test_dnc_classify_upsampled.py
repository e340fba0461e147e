"""DNC heads with ``classify_upsampled``: the embeddings, not the logits, are upsampled."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from hieraseg.models.utils import leaf_path_scores
from tests.test_models.test_dnc.test_dnc_decode_heads import (fake_inputs, fake_samples,
                                                              head_cfgs)
from tests.test_models.test_heads.test_hiera_heads import features
from tests.test_models.test_heads.test_hiera_heads import head_cfgs as hiera_head_cfgs

pytestmark = pytest.mark.usefixtures('mmseg_scope')


def by_hand(head, inputs, size):
    """Logits ``[B, C, *size]``: the feature-resolution embeddings upsampled bilinearly,
    then classified pixel by pixel."""
    head.cls_seg = lambda feat: feat  # the head's forward up to its classifier
    try:
        feat = head(inputs)
    finally:
        del head.cls_seg
    emb = head.project(feat)
    up = F.interpolate(emb, size=size, mode='bilinear', align_corners=head.align_corners)
    b, d, h, w = up.shape
    logits = head.classifier(up.permute(0, 2, 3, 1).reshape(-1, d))
    return logits.view(b, h, w, -1).permute(0, 3, 1, 2), emb


@pytest.mark.parametrize('name', list(head_cfgs()))
def test_flat_heads_classify_upsampled_embeddings(name):
    cls, cfg = head_cfgs()[name]
    torch.manual_seed(0)
    head = cls(classify_upsampled=True, **cfg)
    head.init_weights()
    head.eval()
    inputs, samples = fake_inputs(), fake_samples()
    with torch.no_grad():
        plain = head(inputs)  # outside loss / predict: the feature resolution
        expected, _ = by_hand(head, inputs, (32, 32))
        metas = [s.metainfo for s in samples]
        out = head.predict(inputs, metas, None)
    assert plain.shape[-2:] != (32, 32)
    assert out.shape == (2, 6, 32, 32)
    assert torch.allclose(out, expected, atol=1e-5)
    # differs from upsampling the logits (the classifier is not linear)
    assert not torch.allclose(out, F.interpolate(plain, size=(32, 32), mode='bilinear'),
                              atol=1e-3)

    head.train()
    losses = head.loss(inputs, samples, None)
    labels = torch.cat([s.gt_sem_seg.data for s in samples])
    # mmseg's CrossEntropyLoss (avg_non_ignore=False): the sum over every pixel's count
    reference = F.cross_entropy(by_hand(head, inputs, (32, 32))[0], labels,
                                ignore_index=255, reduction='sum') / labels.numel()
    assert torch.allclose(losses['loss_ce'], reference, atol=1e-5)
    # the hook still gets the labelled pixels at the feature resolution
    feats, labels = head.classifier.pop_kept()
    h, w = plain.shape[-2:]
    assert feats.shape[0] == labels.numel() <= 2 * h * w


def test_hierarchical_heads_classify_upsampled_embeddings():
    cfg = dict(hiera_head_cfgs()['HieraFCNHead'], type='HieraDNCFCNHead',
               num_sub_centroids=3, embed_channels=5, classify_upsampled=True)
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    head.init_weights()
    head.eval()
    inputs = features()
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2
    with torch.no_grad():
        node_logits = head.predict_node_logits(inputs, metas)
        expected, emb = by_hand(head, inputs, (32, 32))
        scores = head.predict(inputs, metas, None)
    assert node_logits.shape == (2, 12, 32, 32)
    # the head interpolates with its own gathers (float rounding apart, F.interpolate), and
    # the top level's LayerNorm of two scores amplifies rounding when they are close
    assert torch.allclose(node_logits, expected, atol=1e-4)
    leaf_to_node = head.hierarchy.leaf_to_node
    assert torch.allclose(scores, leaf_path_scores(expected, leaf_to_node), atol=1e-4)

    head.train()
    labels = torch.randint(0, 7, (2, 32, 32))
    samples = []
    for label in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label[None])
        sample.set_metainfo(dict(img_shape=(32, 32), pad_shape=(32, 32)))
        samples.append(sample)
    losses = head.loss(inputs, samples, None)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert head.projection[1].weight.grad is not None
    feats, kept = head.classifier.pop_kept()
    assert feats.shape == (emb.shape[0] * emb.shape[2] * emb.shape[3], 5)


def test_upsample_factor_stops_the_embeddings_upsampling_part_way():
    cls, cfg = head_cfgs()['DNCFCNHead']  # feature map 8 x 8, output 32 x 32
    torch.manual_seed(0)
    head = cls(classify_upsampled=True, upsample_factor=2, **cfg)
    head.init_weights()
    head.eval()
    inputs, samples = fake_inputs(), fake_samples()
    with torch.no_grad():
        at_16, _ = by_hand(head, inputs, (16, 16))
        expected = F.interpolate(at_16, size=(32, 32), mode='bilinear',
                                 align_corners=head.align_corners)
        out = head.predict(inputs, [s.metainfo for s in samples], None)
    assert torch.allclose(out, expected, atol=1e-5)
    head.upsample_factor = 8  # capped at the output size
    with torch.no_grad():
        full, _ = by_hand(head, inputs, (32, 32))
        assert torch.allclose(head.predict(inputs, [s.metainfo for s in samples], None),
                              full, atol=1e-5)


@pytest.mark.parametrize('factor', [0, -2, 1.5, True])
def test_bad_upsample_factor(factor):
    cls, cfg = head_cfgs()['DNCFCNHead']
    with pytest.raises(ValueError, match='upsample_factor'):
        cls(classify_upsampled=True, upsample_factor=factor, **cfg)
    with pytest.raises(ValueError, match='classify_upsampled=True'):
        cls(upsample_factor=2, **cfg)
