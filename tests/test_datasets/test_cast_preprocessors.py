"""CAST data preprocessors: superpixel maps padded with -1 to the batch, checked against
their images, and moved with the pixels by Mixup / CutMix."""
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.models.utils.batch_augments import CutMix, Mixup
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmpretrain.structures import DataSample
from mmseg.registry import MODELS as SEG_MODELS
from mmseg.structures import SegDataSample

import hieraseg  # noqa: F401
from hieraseg.datasets import SuperpixelError
from hieraseg.datasets.superpixel_mixing import mix_with_superpixels, relabel_batch


def batch(sample_type, sizes, num_segments=5, seed=0):
    """Images ``[3, h, w]`` uint8 and samples with ``[h, w]`` maps of random ids < S."""
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for index, (h, w) in enumerate(sizes):
        inputs.append(torch.from_numpy(rng.integers(0, 256, (3, h, w), dtype=np.uint8)))
        sample = sample_type(metainfo=dict(img_path=f'img{index}.png', img_shape=(h, w),
                                           ori_shape=(h, w)))
        sample.set_field(torch.from_numpy(rng.integers(0, num_segments, (h, w))), 'superpixels')
        if sample_type is DataSample:
            sample.set_gt_label(index % 3)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def build(registry, cfg, scope):
    with DefaultScope.overwrite_default_scope(scope):
        return registry.build(cfg)


@pytest.mark.parametrize('kind', ['cls', 'seg'])
def test_maps_are_padded_with_minus_one(kind):
    sizes = [(6, 9), (8, 5)]
    if kind == 'cls':
        pre = build(PRETRAIN_MODELS, dict(type='CASTClsDataPreprocessor', pad_size_divisor=4),
                    'mmpretrain')
        data, expected = batch(DataSample, sizes), (8, 12)
    else:
        pre = build(SEG_MODELS, dict(type='CASTSegDataPreProcessor', size_divisor=4),
                    'mmseg')
        data, expected = batch(SegDataSample, sizes), (8, 12)
    maps_in = [s.superpixels.clone() for s in data['data_samples']]
    out = pre(data, training=True)
    assert tuple(out['inputs'].shape[-2:]) == expected
    for (h, w), before, sample in zip(sizes, maps_in, out['data_samples']):
        segments = sample.superpixels
        assert segments.dtype == torch.int64 and tuple(segments.shape) == expected
        assert torch.equal(segments[:h, :w], before)
        pad = torch.ones(expected, dtype=torch.bool)
        pad[:h, :w] = False
        assert (segments[pad] == -1).all() and (segments[~pad] >= 0).all()


@pytest.mark.parametrize('kind', ['cls', 'seg'])
def test_missing_map_and_size_mismatch_are_errors(kind):
    if kind == 'cls':
        pre = build(PRETRAIN_MODELS, dict(type='CASTClsDataPreprocessor'), 'mmpretrain')
        name, sample_type = 'CASTClsDataPreprocessor', DataSample
    else:
        pre = build(SEG_MODELS, dict(type='CASTSegDataPreProcessor'), 'mmseg')
        name, sample_type = 'CASTSegDataPreProcessor', SegDataSample
    data = batch(sample_type, [(6, 6), (6, 6)])
    del data['data_samples'][1].superpixels
    with pytest.raises(SuperpixelError, match=f"{name}: sample 1 img1.png has no 'superpixels'"
                       r".*dict\(type='Superpixels'\)"):
        pre(data, training=False)
    data = batch(sample_type, [(6, 6), (6, 6)])
    data['data_samples'][0].superpixels = torch.zeros(6, 7, dtype=torch.long)
    with pytest.raises(SuperpixelError, match=r'sample 0 img0.png: superpixel map is \(6, 7\) '
                       r'but its image is \(6, 6\)'):
        pre(data, training=False)


def test_relabel_batch_is_per_sample_contiguous():
    maps = torch.tensor([[[4, 4, 9], [-1, 2, 9]], [[0, 7, 7], [7, 3, -1]]])
    expected = torch.tensor([[[1, 1, 2], [-1, 0, 2]], [[0, 2, 2], [2, 1, -1]]])
    assert torch.equal(relabel_batch(maps), expected)


def grid_maps(batch_size, size=16, cell=4):
    """Maps whose segments are ``cell`` x ``cell`` squares, numbered per sample so that
    samples differ: ``[B, size, size]``."""
    ids = torch.arange((size // cell)**2).view(size // cell, size // cell)
    ids = ids.repeat_interleave(cell, 0).repeat_interleave(cell, 1)
    return torch.stack([(ids + b) % ids.numel() for b in range(batch_size)])


def test_cutmix_pastes_the_partner_segments_with_its_pixels():
    torch.manual_seed(0)
    inputs, scores = torch.rand(4, 3, 16, 16), torch.eye(4)
    maps = grid_maps(4)
    aug = CutMix(alpha=1.0)
    np.random.seed(3)
    torch.manual_seed(3)
    theirs_inputs, theirs_scores = aug.mix(inputs.clone(), scores.clone())
    np.random.seed(3)
    torch.manual_seed(3)
    mixed, mixed_scores, mixed_maps = mix_with_superpixels(aug, inputs.clone(), scores, maps)
    assert torch.equal(mixed, theirs_inputs) and torch.allclose(mixed_scores, theirs_scores)
    changed = (mixed != inputs).any(1)  # [B, H, W], the pasted box
    assert changed.any() and not changed.all()
    for b in range(4):
        partner = int(torch.nonzero(
            (inputs[:, :, changed[b]] == mixed[b][:, changed[b]]).all(1).all(1))[0])
        inside, outside = mixed_maps[b][changed[b]], mixed_maps[b][~changed[b]]
        # ids contiguous; no segment on both sides of the cut; each side follows its source
        assert torch.equal(mixed_maps[b].unique(), torch.arange(int(mixed_maps[b].max()) + 1))
        assert not set(inside.tolist()) & set(outside.tolist())
        for region, source in ((inside, maps[partner][changed[b]]),
                               (outside, maps[b][~changed[b]])):
            pairs = torch.unique(torch.stack([region, source]), dim=1)
            assert pairs.shape[1] == len(region.unique()) == len(source.unique())


@pytest.mark.parametrize('seed', [0, 1, 2, 5])
def test_mixup_keeps_the_map_of_the_heavier_image(seed):
    inputs, scores, maps = torch.rand(4, 3, 8, 8), torch.eye(4), grid_maps(4, 8, 2)
    np.random.seed(seed)
    torch.manual_seed(seed)
    theirs_inputs, theirs_scores = Mixup(alpha=0.8).mix(inputs.clone(), scores.clone())
    np.random.seed(seed)
    torch.manual_seed(seed)
    mixed, mixed_scores, mixed_maps = mix_with_superpixels(Mixup(alpha=0.8), inputs, scores,
                                                           maps)
    assert torch.allclose(mixed, theirs_inputs) and torch.allclose(mixed_scores, theirs_scores)
    heavier = mixed_scores.argmax(1)  # one-hot scores: the larger weight names the image
    assert torch.equal(mixed_maps, maps[heavier])


def test_cls_preprocessor_mixes_maps_in_training():
    pre = build(PRETRAIN_MODELS, dict(
        type='CASTClsDataPreprocessor', num_classes=3,
        batch_augments=dict(augments=[dict(type='CutMix', alpha=1.0)])), 'mmpretrain')
    data = batch(DataSample, [(16, 16)] * 4, num_segments=3)
    for b, sample in enumerate(data['data_samples']):
        sample.superpixels = grid_maps(4)[b]
    np.random.seed(0)
    torch.manual_seed(0)
    out = pre(data, training=True)
    maps = torch.stack([s.superpixels for s in out['data_samples']])
    assert maps.max() + 1 > 16  # pasted segments are new ones
    assert all(s.gt_score.shape == (3, ) for s in out['data_samples'])


def test_unsupported_batch_augment_is_an_error():
    from mmpretrain.models.utils.batch_augments import ResizeMix
    with pytest.raises(SuperpixelError, match='ResizeMix does not say how superpixels mix'):
        mix_with_superpixels(ResizeMix(alpha=1.0), torch.rand(2, 3, 8, 8), torch.eye(2),
                             grid_maps(2, 8, 2))
