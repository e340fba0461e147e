"""FlipSwapSegTTAModel: flip TTA that also swaps left/right score channels."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor, SegTTAModel
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from PIL import Image
from torch import nn

from hieraseg.datasets import HieraLIPDataset
from hieraseg.hierarchy import LIP_FLIP_PAIRS
from hieraseg.models.segmentors import FlipSwapSegTTAModel


class CannedSegmentor(nn.Module):
    """Stands in for a segmentor: its test_step returns the seg_logits [C, H, W] stored for
    each (image, flip direction), as mmseg segmentors return them (flipped back already)."""
    out_channels = 4

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def test_step(self, data):
        out = []
        for sample in data['data_samples']:
            result = SegDataSample(metainfo=sample.metainfo)
            result.seg_logits = PixelData(data=self.logits[sample.img_path,
                                                           sample.flip_direction])
            out.append(result)
        return out


def augmented_batch(directions_per_image):
    """BaseTTAModel's input: per augmentation, the batch of images and data samples."""
    num_augs = len(next(iter(directions_per_image.values())))
    batch = dict(inputs=[], data_samples=[])
    for aug in range(num_augs):
        samples = []
        for img_path, directions in directions_per_image.items():
            samples.append(SegDataSample(metainfo=dict(
                img_path=img_path, flip=directions[aug] is not None,
                flip_direction=directions[aug])))
        batch['inputs'].append([torch.zeros(3, 1, 2) for _ in samples])
        batch['data_samples'].append(samples)
    return batch


def canned_logits():
    """Two images of 1 x 2 pixels, 4 classes, (1, 2) a left/right pair. In image 'a' the
    mirrored copy calls pixel 0 class 2 (its view of class 1) more confidently than the
    original calls it class 1; pixel 1 is class 3 in both copies. Image 'b' is not ambiguous."""
    a_plain = torch.tensor([[0., 0.], [3., 0.], [0., 0.], [0., 2.]])[:, None]
    a_mirrored = torch.tensor([[0., 0.], [0., 0.], [3.5, 0.], [0., 2.]])[:, None]
    b_plain = torch.tensor([[2., 0.], [0., 0.], [0., 1.], [0., 0.]])[:, None]
    b_mirrored = torch.tensor([[2., 0.], [0., 1.], [0., 0.], [0., 0.]])[:, None]
    return {('a', None): a_plain, ('a', 'horizontal'): a_mirrored,
            ('b', None): b_plain, ('b', 'horizontal'): b_mirrored}


def test_merged_prediction_swaps_channels_of_the_flipped_copy():
    logits = canned_logits()
    before = {key: value.clone() for key, value in logits.items()}
    tta = FlipSwapSegTTAModel(module=CannedSegmentor(logits), flip_label_pairs=[(1, 2)])
    merged = tta.test_step(augmented_batch({'a': [None, 'horizontal'],
                                            'b': [None, 'horizontal']}))
    assert [sample.img_path for sample in merged] == ['a', 'b']
    by_hand = [0, 2, 1, 3]  # channel order that undoes the mirror
    for sample, name in zip(merged, 'ab'):
        probs = (logits[name, None].softmax(0) + logits[name, 'horizontal'][by_hand].softmax(0))
        assert torch.equal(sample.pred_sem_seg.data, (probs / 2).argmax(0)[None])
    assert merged[0].pred_sem_seg.data.tolist() == [[[1, 3]]]
    assert merged[1].pred_sem_seg.data.tolist() == [[[0, 2]]]
    # mmseg's SegTTAModel, which does not swap, lets the mirrored copy win pixel 0 of 'a'
    plain = SegTTAModel(module=CannedSegmentor(logits)).test_step(
        augmented_batch({'a': [None, 'horizontal'], 'b': [None, 'horizontal']}))
    assert plain[0].pred_sem_seg.data.tolist() == [[[2, 3]]]
    for key in logits:  # the segmentor's outputs are left as they were
        assert torch.equal(logits[key], before[key])


def test_vertical_flips_swap_and_unflipped_copies_do_not():
    logits = canned_logits()
    logits['a', 'vertical'] = logits.pop(('a', 'horizontal'))
    tta = FlipSwapSegTTAModel(module=CannedSegmentor(logits), flip_label_pairs=[(1, 2)])
    assert tta.test_step(augmented_batch({'a': [None, 'vertical']}))[0] \
        .pred_sem_seg.data.tolist() == [[[1, 3]]]
    # two unflipped copies: nothing is swapped, the average of the two is taken as is
    logits['a', None] = logits['a', 'vertical']
    assert tta.test_step(augmented_batch({'a': [None, None]}))[0] \
        .pred_sem_seg.data.tolist() == [[[2, 3]]]


def test_pairs_must_fit_the_channels():
    tta = FlipSwapSegTTAModel(module=CannedSegmentor(canned_logits()),
                              flip_label_pairs=LIP_FLIP_PAIRS)
    with pytest.raises(ValueError, match='flip_label_pairs do not fit the 4 score channels'):
        tta.test_step(augmented_batch({'a': [None, 'horizontal']}))
    with pytest.raises(ValueError, match='label 2 appears in more than one pair'):
        FlipSwapSegTTAModel(module=CannedSegmentor({}), flip_label_pairs=[(1, 2), (2, 3)])


def test_built_from_a_config(mmseg_scope):
    tta = MODELS.build(dict(type='FlipSwapSegTTAModel', module=CannedSegmentor({}),
                            flip_label_pairs=[[14, 15], [16, 17], [18, 19]]))
    assert isinstance(tta, FlipSwapSegTTAModel) and tta.flip_label_pairs == LIP_FLIP_PAIRS


class MirrorSymmetricSegmentor(BaseSegmentor):
    """A one-conv segmentor that treats left and right alike: kernels of unpaired classes are
    left-right symmetric and each pair's kernels are mirror images of each other, so its
    scores for a mirrored image are its mirrored scores with the pair channels exchanged.
    Prediction goes through mmseg's own ``postprocess_result`` (which flips back)."""

    def __init__(self, num_classes, pairs, seed=0):
        super().__init__(data_preprocessor=dict(
            type='SegDataPreProcessor', mean=[120., 110., 100.], std=[60., 50., 40.],
            bgr_to_rgb=True))
        generator = torch.Generator().manual_seed(seed)
        weight = torch.randn(num_classes, 3, 3, 3, generator=generator)
        bias = torch.randn(num_classes, generator=generator)
        symmetric = (weight + weight.flip(-1)) / 2
        for left, right in pairs:
            symmetric[left], symmetric[right] = weight[left], weight[left].flip(-1)
            bias[right] = bias[left]
        self.conv = nn.Conv2d(3, num_classes, 3, padding=1)
        self.conv.weight.data.copy_(symmetric)
        self.conv.bias.data.copy_(bias)
        self.out_channels = num_classes
        self.align_corners = False

    def extract_feat(self, inputs):
        return inputs

    def encode_decode(self, inputs, batch_data_samples):
        return self.conv(inputs)

    def _forward(self, inputs, data_samples=None):
        return self.conv(inputs)

    def loss(self, inputs, data_samples):
        raise NotImplementedError

    def predict(self, inputs, data_samples=None):
        return self.postprocess_result(self.conv(inputs), data_samples)


def write_lip_val(root, num_images=2, shape=(12, 16)):
    images, labels = 'TrainVal_images/val_images', 'TrainVal_parsing_annotations/val_segmentations'
    for folder in (images, labels):
        os.makedirs(osp.join(root, folder))
    rng = np.random.default_rng(1)
    for index in range(num_images):
        Image.fromarray(rng.integers(0, 256, shape + (3, ), dtype=np.uint8)).save(
            osp.join(root, images, f'{index}.png'))
        Image.fromarray(rng.integers(0, 20, shape, dtype=np.uint8)).save(
            osp.join(root, labels, f'{index}.png'))
    return dict(data_root=root, img_suffix='.png',  # lossless, so both reads see one image
                data_prefix=dict(img_path=images, seg_map_path=labels))


def test_symmetric_model_predicts_the_same_with_flip_tta(tmp_path, mmseg_scope):
    data = write_lip_val(str(tmp_path))
    load = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    plain_set = HieraLIPDataset(**data, pipeline=load + [dict(type='PackSegInputs')])
    tta_set = HieraLIPDataset(**data, pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='TestTimeAug', transforms=[
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])])
    model = MirrorSymmetricSegmentor(len(plain_set.metainfo['classes']), LIP_FLIP_PAIRS).eval()

    with torch.no_grad():
        plain = model.test_step(pseudo_collate([plain_set[0], plain_set[1]]))
        tta_batch = pseudo_collate([tta_set[0], tta_set[1]])
        assert [s.flip for s in tta_batch['data_samples'][1]] == [True, True]
        merged = FlipSwapSegTTAModel(module=model, flip_label_pairs=LIP_FLIP_PAIRS) \
            .test_step(tta_batch)
        unswapped = SegTTAModel(module=model).test_step(tta_batch)

    sided = torch.tensor([label for pair in LIP_FLIP_PAIRS for label in pair])
    for plain_sample, merged_sample, unswapped_sample in zip(plain, merged, unswapped):
        prediction = plain_sample.pred_sem_seg.data
        assert torch.isin(prediction, sided).float().mean() > 0.1  # the test has teeth
        assert torch.equal(merged_sample.pred_sem_seg.data, prediction)
        assert merged_sample.img_path == plain_sample.img_path
        # without the swap, the left and right scores of a pixel average into a tie
        assert not torch.equal(unswapped_sample.pred_sem_seg.data, prediction)
