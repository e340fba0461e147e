"""The memory-lean classification of upsampled embeddings against the reference (one piece:
``F.interpolate`` then the classifier): the same logits and the same gradients w.r.t. the
embeddings and every learnable parameter, in float64, float32 and under bf16 autocast; and
through the real heads' ``loss`` and ``predict``."""
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from hieraseg.models.heads import dnc_decode_heads
from hieraseg.models.utils import HieraSubCentroidClassifier, SubCentroidClassifier
from hieraseg.models.utils.upsampled_classification import (
    auto_chunk_pixels, classify_upsampled, linear_source_weights)

SIZES = {'x2': ((7, 9), (14, 18)), 'full': ((7, 9), (53, 67))}
CLASSIFIERS = ['flat-layernorm', 'flat-temperature', 'flat-affine', 'hiera-layernorm',
               'hiera-affine']


def make_classifier(name, dim=6, dtype=torch.float32, seed=0):
    """A classifier whose learnable parameters are moved off their initial values (so a
    gradient that ignored them could not pass)."""
    kind, norm = name.split('-')
    torch.manual_seed(seed)
    if kind == 'flat':
        clf = SubCentroidClassifier(5, 3, dim, logit_norm=norm)
    else:
        clf = HieraSubCentroidClassifier('cityscapes', 3, dim, logit_norm=norm)
    with torch.no_grad():
        for p in clf.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return clf.to(dtype)


def run(clf, emb, size, align_corners, lean, grad_out, chunk_pixels=None, amp=False):
    """Logits and the gradients of ``sum(logits * grad_out)`` w.r.t. ``emb`` and every
    parameter of ``clf``."""
    emb = emb.detach().requires_grad_()
    clf.zero_grad()
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
        logits = classify_upsampled(clf, emb.to(torch.bfloat16) if amp else emb, size,
                                    align_corners, lean=lean, chunk_pixels=chunk_pixels)
    (logits.float() * grad_out).sum().backward()
    return logits.detach(), emb.grad, {n: p.grad.clone() for n, p in clf.named_parameters()}


def inputs(clf, sizes, dtype, seed=1):
    gen = torch.Generator().manual_seed(seed)
    (h, w), (big_h, big_w) = sizes
    emb = torch.randn(2, clf.feat_dim, h, w, generator=gen).to(dtype)
    grad_out = torch.randn(2, big_h, big_w, clf.num_classes, generator=gen).to(dtype)
    grad_out[0, :5] = 0  # pixels a loss ignores
    return emb, grad_out


@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('in_size,out_size', [(7, 53), (9, 67), (7, 14), (5, 5), (4, 1),
                                              (6, 3)])
def test_linear_source_weights_are_pytorchs_interpolation(in_size, out_size, align_corners):
    x = torch.randn(3, in_size, dtype=torch.float64)
    i0, i1, w0, w1 = linear_source_weights(in_size, out_size, align_corners,
                                           dtype=torch.float64)
    expected = F.interpolate(x[None], size=out_size, mode='linear',
                             align_corners=align_corners)[0]
    torch.testing.assert_close(x[:, i0] * w0 + x[:, i1] * w1, expected, rtol=1e-12, atol=0)
    assert (i0 <= i1).all() and (i1 < in_size).all() and (i0[1:] >= i0[:-1]).all()


@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('sizes', list(SIZES))
@pytest.mark.parametrize('name', CLASSIFIERS)
def test_lean_equals_reference_float64(name, sizes, align_corners):
    """Several chunks (the last one shorter), in float64: equal to rounding."""
    clf = make_classifier(name, dtype=torch.float64)
    emb, grad_out = inputs(clf, SIZES[sizes], torch.float64)
    ref = run(clf, emb, SIZES[sizes][1], align_corners, False, grad_out)
    lean = run(clf, emb, SIZES[sizes][1], align_corners, True, grad_out, chunk_pixels=300)
    torch.testing.assert_close(lean[0], ref[0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(lean[1], ref[1], rtol=1e-10, atol=1e-12)
    assert ref[2].keys() == lean[2].keys() and len(ref[2]) >= 2
    for key in ref[2]:
        assert ref[2][key].abs().sum() > 0, key
        torch.testing.assert_close(lean[2][key], ref[2][key], rtol=1e-5, atol=1e-6,
                                   msg=lambda m: f'{key}: {m}')
    assert all(p.grad is None for p in clf.buffers())  # the sub-centroids are buffers


@pytest.mark.parametrize('chunk_pixels', [None, 1, 10**9])
@pytest.mark.parametrize('name', ['flat-layernorm', 'hiera-layernorm'])
def test_lean_equals_reference_float32_any_chunk_size(name, chunk_pixels):
    """float32; automatic chunks, one row per chunk (``chunk_pixels`` below a row), one
    chunk. Logits and gradients within float32 rounding of the float64 result, as the
    one-piece reference is: 5e-5 of each tensor's largest entry (a parameter gradient is a
    sum over all 7102 pixels, some entries much smaller than the terms; the LayerNorm of
    close scores amplifies a rounding)."""
    clf = make_classifier(name)
    emb, grad_out = inputs(clf, SIZES['full'], torch.float32)
    exact = run(make_classifier(name, dtype=torch.float64), emb.double(), SIZES['full'][1],
                False, False, grad_out.double())
    ref = run(clf, emb, SIZES['full'][1], False, False, grad_out)
    lean = run(clf, emb, SIZES['full'][1], False, True, grad_out, chunk_pixels=chunk_pixels)
    assert lean[0].dtype == torch.float32

    def pairs(result):
        yield 'logits', result[0], exact[0]
        yield 'embedding gradient', result[1], exact[1]
        for key in exact[2]:
            yield key, result[2][key], exact[2][key]

    for result in (ref, lean):
        for key, actual, expected in pairs(result):
            atol = 5e-5 * expected.abs().max().item()
            torch.testing.assert_close(actual.double(), expected, rtol=0, atol=atol,
                                       msg=lambda m: f'{key}: {m}')


def relative_error(actual, expected):
    return ((actual.double() - expected.double()).norm() / expected.double().norm()).item()


@pytest.mark.parametrize('name', CLASSIFIERS)
def test_lean_under_bf16_autocast(name):
    """Under CPU autocast: the reference's dtype (bfloat16 logits, or float32 where the
    affine map's float32 parameters promote them), its logits to one bfloat16 rounding and
    its embedding gradients (LayerNorms of bfloat16 scores amplify a rounding now and
    then). The parameter gradients (sums over every pixel of per-pixel
    bfloat16 terms) are compared with the float32 ones: the reference's are 3-21 % off
    here, and the lean path's are no further off."""
    clf = make_classifier(name)
    emb, grad_out = inputs(clf, SIZES['full'], torch.float32)
    size = SIZES['full'][1]
    ref = run(clf, emb, size, False, False, grad_out, amp=True)
    lean = run(clf, emb, size, False, True, grad_out, chunk_pixels=300, amp=True)
    exact = run(clf, emb, size, False, False, grad_out)
    assert lean[0].dtype == ref[0].dtype
    differ = (lean[0].float() - ref[0].float()).abs() > 2**-7 * (1 + ref[0].float().abs())
    assert differ.float().mean() < 1e-4  # beyond one bfloat16 rounding: a few pixels
    torch.testing.assert_close(lean[0].float(), ref[0].float(), rtol=0.05, atol=0.05)
    assert relative_error(lean[1], ref[1]) < 1e-2
    for key in ref[2]:
        lean_error, ref_error = (relative_error(g[2][key], exact[2][key]) for g in (lean, ref))
        assert lean_error <= max(1.5 * ref_error, 0.15), (key, lean_error, ref_error)


def saved_bytes(fn):
    """Bytes of the tensors autograd saves for backward while ``fn()`` runs."""
    total = []

    def pack(tensor):
        total.append(tensor.numel() * tensor.element_size())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(total)


def test_lean_keeps_only_the_embeddings_for_backward():
    clf = make_classifier('hiera-layernorm', dim=16)
    emb = torch.randn(2, 16, 7, 9, requires_grad=True)
    size = SIZES['full'][1]
    up_bytes = 2 * 16 * size[0] * size[1] * 4
    params = sum(p.numel() * 4 for p in clf.parameters())
    lean = saved_bytes(lambda: classify_upsampled(clf, emb, size, chunk_pixels=300))
    ref = saved_bytes(lambda: classify_upsampled(clf, emb, size, lean=False))
    assert lean == emb.numel() * 4 + params
    assert ref > 3 * up_bytes


def test_without_grad_the_chunks_are_the_reference_logits():
    clf = make_classifier('flat-affine')
    emb, _ = inputs(clf, SIZES['full'], torch.float32)
    with torch.no_grad():
        ref = classify_upsampled(clf, emb, SIZES['full'][1], True, lean=False)
        lean = classify_upsampled(clf, emb, SIZES['full'][1], True, chunk_pixels=500)
    torch.testing.assert_close(lean, ref, rtol=1e-5, atol=1e-5)
    assert not lean.requires_grad


def test_frozen_embeddings_still_train_the_classifier():
    clf = make_classifier('flat-layernorm')
    emb, grad_out = inputs(clf, SIZES['x2'], torch.float32)
    grads = []
    for lean in (False, True):
        clf.zero_grad()
        logits = classify_upsampled(clf, emb, SIZES['x2'][1], lean=lean, chunk_pixels=100)
        (logits * grad_out).sum().backward()
        grads.append([p.grad.clone() for p in clf.parameters()])
    for ref, lean in zip(*grads):
        torch.testing.assert_close(lean, ref, rtol=1e-4, atol=1e-5)


def test_auto_chunk_pixels_follows_the_budget():
    # Cityscapes hierarchical DNC: D=512, V*K=260, V=26 -> 4 * (5120 + 780 + 208) bytes
    assert auto_chunk_pixels(512, 260, 26, budget=4 * 6108 * 1000) == 1000
    assert auto_chunk_pixels(512, 260, 26, budget=1) == 1
    assert auto_chunk_pixels(512, 260, 26) > 2 * 1024  # a default chunk spans whole rows


# --- through the real heads ------------------------------------------------------------------
NORM = dict(type='BN', requires_grad=True)
HEADS = {
    'flat': dict(type='DNCSepASPPHead', num_classes=5, in_channels=16, in_index=1,
                 channels=8, dilations=(1, 2), c1_in_channels=4, c1_channels=4,
                 num_sub_centroids=3, embed_channels=6, dropout_ratio=0.0, norm_cfg=NORM),
    'hiera': dict(type='HieraDNCSepASPPHead', hierarchy='cityscapes', in_channels=16,
                  in_index=1, channels=8, dilations=(1, 2), c1_in_channels=4, c1_channels=4,
                  num_sub_centroids=3, embed_channels=6, dropout_ratio=0.0, norm_cfg=NORM,
                  loss_decode=[dict(type='TreeMinLoss', gamma=2.0),
                               dict(type='HieraCrossEntropyLoss', loss_weight=0.5)],
                  loss_triplet=dict(type='TreeTripletLoss', loss_weight=0.5, ramp=None)),
}


def head_batch(num_classes, label_size=(53, 67), seed=0):
    """Features of a 28 x 36 image (strides 2 and 4: 14 x 18 and 7 x 9) and labels of
    ``label_size`` with ignored pixels."""
    gen = torch.Generator().manual_seed(seed)
    feats = [torch.randn(2, 4, 14, 18, generator=gen), torch.randn(2, 16, 7, 9, generator=gen)]
    samples = []
    for _ in range(2):
        label = torch.randint(0, num_classes, (1, ) + label_size, generator=gen)
        label[:, :6, :10] = 255
        sample = SegDataSample(gt_sem_seg=PixelData(data=label))
        sample.set_metainfo(dict(img_shape=label_size, pad_shape=label_size))
        samples.append(sample)
    return feats, samples


def head_step(head, state, feats, samples, lean, monkeypatch):
    """Loss, gradients, kept features and prediction of the head, whose classification of
    upsampled embeddings is lean (chunks of 400 pixels) or in one piece."""
    monkeypatch.setattr(dnc_decode_heads, 'classify_upsampled',
                        partial(classify_upsampled, lean=lean, chunk_pixels=400))
    head.load_state_dict(state)  # the same BN statistics for both
    head.zero_grad()
    losses = head.loss(feats, samples, None)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    grads = {n: p.grad.clone() for n, p in head.named_parameters() if p.grad is not None}
    kept = head.classifier.pop_kept()
    head.eval()
    with torch.no_grad():
        pred = head.predict(feats, [s.metainfo for s in samples], None)
    head.train()
    return {k: v.detach() for k, v in losses.items()}, grads, kept, pred


@pytest.mark.usefixtures('mmseg_scope')
@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('factor', [2, None])
@pytest.mark.parametrize('kind', list(HEADS))
def test_head_loss_and_predict_lean_equals_reference(
        kind, factor, align_corners, monkeypatch):
    torch.manual_seed(0)
    head = MODELS.build(dict(HEADS[kind], classify_upsampled=True, upsample_factor=factor,
                             align_corners=align_corners))
    head.init_weights()
    with torch.no_grad():  # move the classifier's LayerNorms off their initial values
        for p in head.classifier.parameters():
            p.add_(0.3 * torch.randn_like(p))
    head.train()
    num_classes = head.num_classes
    feats, samples = head_batch(num_classes)
    state = {k: v.clone() for k, v in head.state_dict().items()}
    ref = head_step(head, state, feats, samples, False, monkeypatch)
    lean = head_step(head, state, feats, samples, True, monkeypatch)
    assert ref[0].keys() == lean[0].keys()
    for key in ref[0]:
        torch.testing.assert_close(lean[0][key], ref[0][key], rtol=1e-5, atol=1e-6,
                                   msg=lambda m: f'{key}: {m}')
    assert ref[1].keys() == lean[1].keys()
    assert {'classifier.feat_norm.weight', 'projection.1.weight'} <= ref[1].keys()
    for key in ref[1]:
        # float32 sums over every pixel in another order: judged at the tensor's scale
        # (seen: 1.5e-4 where the largest gradient is larger by 100 or more); a wrong chunk or
        # interpolation weight is off by a share of the largest gradient
        scale = float(ref[1][key].abs().max())
        torch.testing.assert_close(lean[1][key], ref[1][key], rtol=0, atol=5e-3 * scale + 1e-6,
                                   msg=lambda m: f'{key}: {m}')
    for ref_kept, lean_kept in zip(ref[2], lean[2]):  # the hook's features: unchanged
        assert torch.equal(ref_kept, lean_kept)
    assert lean[3].shape[-2:] == (53, 67)
    torch.testing.assert_close(lean[3], ref[3], rtol=1e-5, atol=1e-5)


def test_bad_chunk_pixels():
    clf = make_classifier('flat-layernorm')
    emb = torch.randn(1, clf.feat_dim, 3, 4)
    for value in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=r'chunk_pixels must be an integer >= 1 or None'):
            classify_upsampled(clf, emb, (6, 8), chunk_pixels=value)


@pytest.mark.usefixtures('mmseg_scope')
@pytest.mark.parametrize('kind', list(HEADS))
def test_heads_keep_no_upsampled_embeddings_by_default(kind, monkeypatch):
    """The heads' classification of upsampled embeddings, called as the heads call it,
    saves for backward no tensor as large as the upsampled embeddings [B, D, H, W] (D=16:
    more than the logits); forced into one piece, it does."""
    head = MODELS.build(dict(HEADS[kind], embed_channels=16, classify_upsampled=True))
    head.init_weights()
    head.train()
    feats, samples = head_batch(head.num_classes)
    up_numel = 2 * 16 * 53 * 67

    def largest_saved(classify):
        sizes = []

        def recording(*args, **kwargs):
            with torch.autograd.graph.saved_tensors_hooks(
                    lambda t: sizes.append(t.numel()) or t, lambda t: t):
                return classify(*args, **kwargs)

        monkeypatch.setattr(dnc_decode_heads, 'classify_upsampled', recording)
        head.loss(feats, samples, None)
        return max(sizes)

    assert largest_saved(classify_upsampled) < up_numel
    assert largest_saved(partial(classify_upsampled, lean=False)) >= up_numel
