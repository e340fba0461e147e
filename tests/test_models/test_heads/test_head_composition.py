"""How the heads are composed (hieraseg.models.heads): every module built once, the
classifier first in the random stream, the loss through mmseg's path once, and checkpoints
written with the earlier key layout loading strictly."""
from unittest import mock

import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads import FCNHead
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from torch.nn.modules.module import register_module_module_registration_hook

from hieraseg.models.heads import ClassifierSlot
from hieraseg.models.utils import HieraSubCentroidClassifier, SubCentroidClassifier
from tests.test_models.test_dnc.test_dnc_decode_heads import fake_inputs, fake_samples
from tests.test_models.test_dnc.test_dnc_decode_heads import head_cfgs as dnc_head_cfgs
from tests.test_models.test_heads.test_hiera_heads import features, head_cfgs, samples

pytestmark = pytest.mark.usefixtures('mmseg_scope')
HIERA_DNC = dict(num_sub_centroids=3, embed_channels=5)
PLAIN = {'FCN': 'FCNHead', 'ASPP': 'ASPPHead', 'SepASPP': 'DepthwiseSeparableASPPHead',
         'UPer': 'UPerHead'}


def all_cfgs():
    """type name -> (config, the plain mmseg head's type) of every segmentation head."""
    cfgs = {}
    for name, cfg in head_cfgs().items():  # pascal_person_part: 7 leaves, V = 12
        plain = PLAIN[name[len('Hiera'):-len('Head')]]
        cfgs[name] = (dict(cfg), plain)
        dnc_name = name.replace('Hiera', 'HieraDNC')
        cfgs[dnc_name] = (dict(cfg, type=dnc_name, **HIERA_DNC), plain)
    for name, (_, cfg) in dnc_head_cfgs().items():  # 6 classes, K = 3, D = 12
        cfgs[name] = (dict(cfg, type=name), PLAIN[name[len('DNC'):-len('Head')]])
    return cfgs


def plain_cfg(cfg: dict, plain: str) -> dict:
    """The plain mmseg head with the layers of a head config."""
    return dict({k: v for k, v in cfg.items() if k in (
        'in_channels', 'in_index', 'channels', 'num_convs', 'dilations', 'c1_in_channels',
        'c1_channels', 'pool_scales', 'norm_cfg', 'dropout_ratio')}, type=plain, num_classes=7)


def dropped_modules(cfg):
    """The head, and ``(name, type)`` of every module registered while it was built but
    not part of it in the end (a module built, then replaced or deleted)."""
    registered = []
    handle = register_module_module_registration_hook(
        lambda parent, name, module: registered.append((name, module)))
    try:
        head = MODELS.build(cfg)
    finally:
        handle.remove()
    kept = {id(m) for m in head.modules()}
    return head, [(name, type(m).__name__) for name, m in registered if id(m) not in kept]


@pytest.mark.parametrize('name', list(all_cfgs()))
def test_every_module_is_built_once_and_kept(name):
    """A head drops exactly what its plain mmseg head drops (mmseg's
    DepthwiseSeparableASPPHead replaces the ASPPModule that ASPPHead built), plus the
    default conv_seg that mmseg's BaseDecodeHead builds and ClassifierSlot drops."""
    cfg, plain = all_cfgs()[name]
    head, dropped = dropped_modules(cfg)
    _, plain_dropped = dropped_modules(plain_cfg(cfg, plain))
    assert dropped == [('conv_seg', 'Conv2d')] + plain_dropped
    if family(name) == 'HSSN':  # its classifier is a conv_seg with one output per node
        assert head.conv_seg.out_channels == head.hierarchy.num_nodes == 12
    else:
        assert not hasattr(head, 'conv_seg')


@pytest.mark.parametrize('logit_norm', ['layernorm', 'temperature', 'affine'])
def test_hierarchical_classifier_builds_its_normalisation_once(logit_norm):
    registered = []
    handle = register_module_module_registration_hook(
        lambda parent, name, module: registered.append(module))
    try:
        clf = HieraSubCentroidClassifier('pascal_person_part', 3, 5, logit_norm=logit_norm)
    finally:
        handle.remove()
    kept = {id(m) for m in clf.modules()}
    assert registered and all(id(m) in kept for m in registered)
    if logit_norm == 'layernorm':
        assert [n.log_weight.numel() for n in clf.norm] == [7, 3, 2]


def test_the_classifier_is_the_first_random_draw():
    """mmseg's default conv_seg draws nothing from the global generator: the classifier
    built in its place gets the first random numbers after the seed."""
    torch.manual_seed(0)
    hssn = MODELS.build(head_cfgs()['HieraFCNHead'])
    torch.manual_seed(0)
    expected = nn.Conv2d(8, 12, 1)
    assert torch.equal(hssn.conv_seg.weight, expected.weight)
    assert torch.equal(hssn.conv_seg.bias, expected.bias)

    for name, channels, dim, make_classifier in (
            ('DNCFCNHead', 16, 12, lambda: SubCentroidClassifier(6, 3, 12)),
            ('HieraDNCFCNHead', 8, 5,
             lambda: HieraSubCentroidClassifier('pascal_person_part', 3, 5))):
        torch.manual_seed(0)
        head = MODELS.build(all_cfgs()[name][0])
        torch.manual_seed(0)  # the projection, then the sub-centroids
        projection = nn.Sequential(
            ConvModule(channels, channels, 1, norm_cfg=dict(type='BN', requires_grad=True)),
            nn.Conv2d(channels, dim, 1))
        classifier = make_classifier()
        for (key, value), (_, ref) in zip(head.projection.state_dict().items(),
                                          projection.state_dict().items()):
            assert torch.equal(value, ref), (name, key)
        assert torch.equal(head.classifier.centroids, classifier.centroids), name


@pytest.mark.parametrize('name', ['HieraFCNHead', 'HieraDNCFCNHead', 'DNCFCNHead'])
def test_loss_goes_through_mmseg_once(name):
    """One call of mmseg's BaseDecodeHead.loss and of the head's forward per loss."""
    cfg, _ = all_cfgs()[name]
    head = MODELS.build(dict(cfg, classify_upsampled=True) if 'DNC' in name else cfg)
    head.train()
    if name == 'DNCFCNHead':
        inputs, batch = fake_inputs(), fake_samples()
    else:
        inputs, batch = features(), samples(torch.randint(0, 7, (2, 32, 32)))
    with mock.patch.object(BaseDecodeHead, 'loss', autospec=True,
                           side_effect=BaseDecodeHead.loss) as mmseg_loss, \
            mock.patch.object(type(head), 'forward', autospec=True,
                              side_effect=type(head).forward) as forward:
        losses = head.loss(inputs, batch, None)
    assert mmseg_loss.call_count == 1 and forward.call_count == 1
    assert 'acc_seg' in losses and any(k.startswith('loss_') for k in losses)
    if 'DNC' in name:  # classified at the label size inside that one call
        assert head.classifier.pop_kept() is not None


def test_a_head_without_build_classifier_is_an_error():
    class NoClassifierHead(FCNHead, ClassifierSlot):
        pass

    with pytest.raises(NotImplementedError, match='NoClassifierHead must define '
                       r'build_classifier\(\)'):
        NoClassifierHead(in_channels=8, channels=4, num_classes=3)


# --- checkpoints written before the heads were composed this way ------------------------
# The keys that the heads of hieraseg 0.1 (commit 841aa95) added to the plain mmseg head's
# (whose conv_seg they replaced), with their shapes, for the small configs of all_cfgs().
def _bn(prefix, channels):
    return [(f'{prefix}.weight', (channels, )), (f'{prefix}.bias', (channels, )),
            (f'{prefix}.running_mean', (channels, )), (f'{prefix}.running_var', (channels, )),
            (f'{prefix}.num_batches_tracked', ())]


GENERATOR_STATE = tuple(torch.Generator().get_state().shape)  # the tree-triplet loss's RNG
HSSN_BRANCH = [('loss_triplet.generator_state', GENERATOR_STATE),
               ('embedding.0.conv.weight', (6, 32, 1, 1)), *_bn('embedding.0.bn', 6),
               ('embedding.1.weight', (6, 6, 1, 1)), ('embedding.1.bias', (6, ))]
OLD_HEAD_KEYS = {
    'HSSN': [('conv_seg.weight', (12, 8, 1, 1)), ('conv_seg.bias', (12, )), *HSSN_BRANCH],
    'DNC': [('projection.0.conv.weight', (16, 16, 1, 1)), *_bn('projection.0.bn', 16),
            ('projection.1.weight', (12, 16, 1, 1)), ('projection.1.bias', (12, )),
            ('classifier.centroids', (6, 3, 12)), ('classifier.initialized', (6, )),
            ('classifier.class_stale', (6, )), ('classifier.centroid_stale', (6, 3)),
            ('classifier.norm.weight', (6, )), ('classifier.norm.bias', (6, )),
            ('classifier.feat_norm.weight', (12, )), ('classifier.feat_norm.bias', (12, ))],
    'HieraDNC': [('projection.0.conv.weight', (8, 8, 1, 1)), *_bn('projection.0.bn', 8),
                 ('projection.1.weight', (5, 8, 1, 1)), ('projection.1.bias', (5, )),
                 ('classifier.centroids', (12, 3, 5)), ('classifier.initialized', (12, )),
                 ('classifier.class_stale', (12, )), ('classifier.centroid_stale', (12, 3)),
                 ('classifier.norm.0.log_weight', (7, )), ('classifier.norm.0.bias', (7, )),
                 ('classifier.norm.1.log_weight', (3, )), ('classifier.norm.1.bias', (3, )),
                 ('classifier.norm.2.log_weight', (2, )), ('classifier.norm.2.bias', (2, )),
                 ('classifier.feat_norm.weight', (5, )), ('classifier.feat_norm.bias', (5, )),
                 *HSSN_BRANCH],
}


def family(name: str) -> str:
    return 'HieraDNC' if name.startswith('HieraDNC') else \
        'DNC' if name.startswith('DNC') else 'HSSN'


def old_state_dict(name: str, generator: torch.Generator) -> dict:
    """A state dict in the old key layout, with distinct values: the plain mmseg head's
    keys (its conv_seg left out) and the head's own hard-coded keys."""
    cfg, plain = all_cfgs()[name]
    plain_head = MODELS.build(plain_cfg(cfg, plain))
    layout = [(k, tuple(v.shape)) for k, v in plain_head.state_dict().items()
              if not k.startswith('conv_seg.')] + OLD_HEAD_KEYS[family(name)]
    state = {}
    for key, shape in layout:
        if key.endswith('generator_state'):
            state[key] = torch.Generator().manual_seed(7).get_state()
        elif key.endswith(('num_batches_tracked', '_stale')):
            state[key] = torch.randint(0, 100, shape, generator=generator)
        elif key.endswith('initialized'):
            state[key] = torch.randint(0, 2, shape, generator=generator).bool()
        else:
            state[key] = torch.rand(shape, generator=generator) + 0.5
    return state


@pytest.mark.parametrize('name', list(all_cfgs()))
def test_checkpoints_with_the_earlier_key_layout_load_strictly(name):
    state = old_state_dict(name, torch.Generator().manual_seed(0))
    head = MODELS.build(all_cfgs()[name][0])
    assert {k: tuple(v.shape) for k, v in head.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in state.items()}
    head.load_state_dict(state, strict=True)
    loaded = head.state_dict()
    different = [k for k, v in state.items() if not torch.equal(loaded[k], v)]
    assert not different, different
