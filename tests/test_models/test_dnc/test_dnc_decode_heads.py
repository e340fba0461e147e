"""DNC segmentation heads: structure, losses, what they keep for the hook."""
import pytest
import torch
from mmseg.structures import SegDataSample
from mmengine.structures import PixelData

from hieraseg.models.heads import DNCASPPHead, DNCFCNHead, DNCSepASPPHead, DNCUPerHead
from hieraseg.models.utils import SubCentroidClassifier

NUM_CLASSES = 6
BN = dict(type='BN', requires_grad=True)

# The heads build their losses in the current default scope: make it mmseg's.
pytestmark = pytest.mark.usefixtures('mmseg_scope')


def head_cfgs():
    common = dict(num_classes=NUM_CLASSES, norm_cfg=BN, num_sub_centroids=3,
                  embed_channels=12, dropout_ratio=0.0)
    return {
        'DNCFCNHead': (DNCFCNHead, dict(in_channels=32, in_index=3, channels=16, num_convs=1,
                                        **common)),
        'DNCASPPHead': (DNCASPPHead, dict(in_channels=32, in_index=3, channels=16,
                                          dilations=(1, 2), **common)),
        'DNCSepASPPHead': (DNCSepASPPHead, dict(in_channels=32, in_index=3, channels=16,
                                                dilations=(1, 2), c1_in_channels=4,
                                                c1_channels=8, **common)),
        'DNCUPerHead': (DNCUPerHead, dict(in_channels=[4, 8, 16, 32], in_index=[0, 1, 2, 3],
                                          channels=16, pool_scales=(1, 2), **common)),
    }


def fake_inputs(batch=2):
    torch.manual_seed(0)
    return [torch.randn(batch, c, s, s) for c, s in ((4, 16), (8, 8), (16, 8), (32, 8))]


def fake_samples(batch=2, size=32, ignore_rows=8):
    samples = []
    for i in range(batch):
        label = torch.randint(0, NUM_CLASSES, (1, size, size))
        label[:, :ignore_rows] = 255  # the top rows are ignored
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label)
        sample.set_metainfo(dict(img_shape=(size, size), pad_shape=(size, size)))
        samples.append(sample)
    return samples


@pytest.mark.parametrize('name', list(head_cfgs()))
def test_head_replaces_conv_seg(name):
    cls, cfg = head_cfgs()[name]
    head = cls(**cfg)
    assert not hasattr(head, 'conv_seg')
    assert isinstance(head.classifier, SubCentroidClassifier)
    assert head.classifier.centroids.shape == (NUM_CLASSES, 3, 12)
    assert head.projection[1].out_channels == 12
    head.init_weights()  # the parent's default init_cfg (conv_seg) must not be used
    head.eval()
    logits = head(fake_inputs())
    out_size = 16 if name in ('DNCSepASPPHead', 'DNCUPerHead') else 8
    assert logits.shape == (2, NUM_CLASSES, out_size, out_size)
    assert head.classifier.pop_kept() is None  # nothing kept outside training


@pytest.mark.parametrize('name', list(head_cfgs()))
def test_loss_keeps_labelled_pixels_at_feature_resolution(name):
    cls, cfg = head_cfgs()[name]
    head = cls(loss_contrast_weight=0.01, loss_compact_weight=0.001, **cfg)
    head.train()
    samples = fake_samples()
    losses = head.loss(fake_inputs(), samples, train_cfg={})
    assert {'loss_ce', 'acc_seg', 'loss_contrast', 'loss_compact'} <= set(losses)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    assert head.projection[1].weight.grad is not None
    feats, labels = head.classifier.pop_kept()
    out_size = 16 if name in ('DNCSepASPPHead', 'DNCUPerHead') else 8
    # Labels nearest-resized from 32x32 to the embedding map: the ignored top quarter
    # (8 of 32 rows) becomes the top quarter of the map, and is left out.
    gt = torch.stack([s.gt_sem_seg.data for s in samples]).float()
    small = torch.nn.functional.interpolate(gt, size=(out_size, out_size), mode='nearest')
    expected = small.long().flatten()
    expected = expected[expected != 255]
    assert torch.equal(labels, expected)
    assert feats.shape == (expected.numel(), 12) and not feats.requires_grad
    assert torch.allclose(feats.norm(dim=1), torch.ones(len(feats)), atol=1e-5)


def test_all_pixels_ignored_keeps_nothing_and_still_trains():
    cls, cfg = head_cfgs()['DNCFCNHead']
    head = cls(loss_contrast_weight=0.01, loss_compact_weight=0.001, **cfg)
    head.train()
    losses = head.loss(fake_inputs(), fake_samples(ignore_rows=32), train_cfg={})
    feats, labels = head.classifier.pop_kept()
    assert feats.shape == (0, 12) and labels.numel() == 0
    assert float(losses['loss_contrast'].detach()) == 0.0


def test_bad_arguments_raise():
    cls, cfg = head_cfgs()['DNCFCNHead']
    with pytest.raises(ValueError, match='num_sub_centroids'):
        cls(**dict(cfg, num_sub_centroids=0))
    with pytest.raises(ValueError, match='out_channels'):
        cls(**dict(cfg, num_classes=2, out_channels=1))
    with pytest.raises(ValueError, match='loss weights'):
        cls(loss_compact_weight=-1.0, **cfg)


def test_out_of_range_label_names_the_file_and_the_classes():
    cls, cfg = head_cfgs()['DNCFCNHead']
    head = cls(**cfg)
    head.train()
    samples = fake_samples()
    samples[1].gt_sem_seg.data[0, -1, -1] = 9
    samples[1].set_metainfo(dict(seg_map_path='/data/b_gtFine_labelTrainIds.png'))
    with pytest.raises(ValueError, match=r'DNCFCNHead: label 9 in the labels of '
                       r'/data/b_gtFine_labelTrainIds.png is outside the 6 classes \(0..5\) '
                       r'and is not the ignore index 255'):
        head.loss(fake_inputs(), samples, train_cfg={})


@pytest.mark.parametrize('name', list(head_cfgs()))
def test_every_head_has_the_feature_layernorm_and_can_turn_it_off(name):
    """One implementation (SubCentroidClassifier) for every head: a LayerNorm over the
    embedding channels by default, none with feat_norm=None, an error naming a bad one
    when the registry builds the head."""
    from mmseg.registry import MODELS
    cls, cfg = head_cfgs()[name]
    head = cls(**cfg)
    assert isinstance(head.classifier.feat_norm, torch.nn.LayerNorm)
    assert head.classifier.feat_norm.normalized_shape == (12, )
    assert cls(feat_norm=None, **cfg).classifier.feat_norm is None
    with pytest.raises(ValueError, match="feat_norm must be one of .*'l2'"):
        MODELS.build(dict(type=name, feat_norm='l2', **cfg))
