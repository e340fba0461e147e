"""CASTImageClassifier and CASTEncoderDecoder with real data samples."""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmpretrain.registry import TRANSFORMS as PRETRAIN_TRANSFORMS
from mmpretrain.structures import DataSample
from mmseg.registry import MODELS as SEG_MODELS
from mmseg.registry import TRANSFORMS as SEG_TRANSFORMS
from mmseg.structures import SegDataSample

import hieraseg  # noqa: F401


def grid_superpixels(H, W, cell):
    cols = (W + cell - 1) // cell
    return (torch.arange(H)[:, None] // cell) * cols + torch.arange(W)[None] // cell


def toy_images(n, size=48, seed=0):
    """Squares (label 1) or discs (label 0) of a random colour on noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    imgs, labels = [], []
    for i in range(n):
        img = rng.integers(0, 80, (size, size, 3)).astype(np.uint8)
        cy, cx, r = rng.integers(16, size - 16, 2).tolist() + [10]
        mask = ((yy - cy)**2 + (xx - cx)**2 < r * r) if i % 2 == 0 else (
            (abs(yy - cy) < r) & (abs(xx - cx) < r))
        img[mask] = rng.integers(150, 255, 3)
        imgs.append(img)
        labels.append(i % 2)
    return imgs, labels


def cls_batch(n=4):
    """Real mmpretrain data: Superpixels transform, PackCASTInputs, the CAST preprocessor."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose([
            PRETRAIN_TRANSFORMS.build(dict(type='Superpixels', num_segments=48,
                                           compactness=20.)),
            PRETRAIN_TRANSFORMS.build(dict(type='PackCASTInputs')),
        ])
    imgs, labels = toy_images(n)
    data = [pipeline(dict(img=img, gt_label=label, img_shape=img.shape[:2],
                          ori_shape=img.shape[:2])) for img, label in zip(imgs, labels)]
    return dict(inputs=[d['inputs'] for d in data],
                data_samples=[d['data_samples'] for d in data])


def build_classifier(head):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = PRETRAIN_MODELS.build(dict(
            type='CASTImageClassifier',
            data_preprocessor=dict(type='CASTClsDataPreprocessor', num_classes=2,
                                   mean=[127.5] * 3, std=[64.] * 3, to_rgb=True),
            backbone=dict(type='CAST', arch='tiny', num_clusters=(16, 8, 4, 2)),
            head=head))
    model.init_weights()
    return model


@pytest.mark.parametrize('head', [
    dict(type='DNCClsHead', num_classes=2, in_channels=96, num_sub_centroids=2),
    dict(type='LinearClsHead', num_classes=2, in_channels=96),
    dict(type='VisionTransformerClsHead', num_classes=2, in_channels=96),
])
def test_classifier_train_step_and_predict(head):
    model = build_classifier(head)
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        data = model.data_preprocessor(cls_batch(), True)
        sp = torch.stack([s.superpixels for s in data['data_samples']])
        assert sp.shape == data['inputs'].shape[:1] + data['inputs'].shape[2:]
        losses = model(**data, mode='loss')
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        assert torch.isfinite(loss)
        loss.backward()
        unused = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
        assert unused == []
        optim.step()
        model.eval()
        preds = model(**model.data_preprocessor(cls_batch(), False), mode='predict')
        assert len(preds) == 4 and all(int(p.pred_label) in (0, 1) for p in preds)
        segs, assignments = model.predict_segments(data['inputs'], data['data_samples'])
    assert segs.shape == (4, 5) + data['inputs'].shape[2:]
    assert torch.equal(segs[:, 0], sp)
    assert all(int(segs[:, lvl].max()) < n for lvl, n in zip((1, 2, 3, 4), (16, 8, 4, 2)))


def test_classifier_bad_samples():
    model = build_classifier(dict(type='LinearClsHead', num_classes=2, in_channels=96))
    x = torch.randn(2, 3, 32, 32)
    with pytest.raises(ValueError, match='data sample 1 has no `superpixels` field.*'
                                         'lacks the `Superpixels` transform'):
        model.loss(x, [DataSample(superpixels=grid_superpixels(32, 32, 4)).set_gt_label(0),
                       DataSample().set_gt_label(1)])
    with pytest.raises(ValueError, match=r'\(32, 28\) differs from the image size \(32, 32\)'):
        model.predict(x, [DataSample(superpixels=grid_superpixels(32, 28, 4))] * 2)


def seg_samples(n, H, W, cell):
    out = []
    for i in range(n):
        s = SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 3, (1, H, W))))
        s.set_metainfo(dict(img_shape=(H, W), ori_shape=(H, W), pad_shape=(H, W),
                            padding_size=[0, 0, 0, 0]))
        s.superpixels = grid_superpixels(H, W, cell)
        out.append(s)
    return out


def build_segmentor(data_preprocessor=dict(type='SegDataPreProcessor')):
    with DefaultScope.overwrite_default_scope('mmseg'):
        torch.manual_seed(0)
        model = SEG_MODELS.build(dict(
            type='CASTEncoderDecoder',
            data_preprocessor=data_preprocessor,
            backbone=dict(type='CAST', arch='tiny', num_clusters=(16, 8, 4, 2),
                          out_type='featmap', out_indices=(0, 3)),
            decode_head=dict(type='FCNHead', in_channels=[96, 96], in_index=[0, 1],
                             input_transform='resize_concat', channels=16, num_convs=1,
                             concat_input=False, num_classes=3,
                             loss_decode=dict(type='CrossEntropyLoss')),
            test_cfg=dict(mode='slide', crop_size=(32, 32), stride=(24, 24))))
    model.init_weights()
    return model


def test_segmentor_loss_whole_and_slide_inference():
    model = build_segmentor()
    with DefaultScope.overwrite_default_scope('mmseg'):
        x, samples = torch.randn(2, 3, 48, 56), seg_samples(2, 48, 56, 4)
        losses = model(x, samples, mode='loss')
        losses['decode.loss_ce'].backward()
        unused = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
        assert unused == []
        model.eval()
        slide = model(x, samples, mode='predict')
        assert slide[0].seg_logits.data.shape == (3, 48, 56)
        model.test_cfg['mode'] = 'whole'
        whole = model(x, seg_samples(2, 48, 56, 4), mode='predict')
        assert whole[1].pred_sem_seg.shape == (48, 56)
        assert model(x, samples, mode='tensor').shape == (2, 3, 12, 14)
        with pytest.raises(ValueError, match='no `superpixels` field'):
            model(x, [SegDataSample(), SegDataSample()], mode='loss')


def test_segmentor_train_step_through_the_seg_pipeline():
    """Real mmseg data: Superpixels, random resize / crop / flip, PackCASTSegInputs and the
    CAST seg preprocessor (pads images and maps to 48 x 48)."""
    model = build_segmentor(dict(type='CASTSegDataPreProcessor', size=(48, 48),
                                 mean=[127.5] * 3, std=[64.] * 3, bgr_to_rgb=True))
    with DefaultScope.overwrite_default_scope('mmseg'):
        pipeline = Compose([SEG_TRANSFORMS.build(t) for t in [
            dict(type='Superpixels', num_segments=48, compactness=20.),
            dict(type='RandomResize', scale=(56, 56), ratio_range=(0.8, 1.2), keep_ratio=True),
            dict(type='RandomCrop', crop_size=(48, 48)),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackCASTSegInputs')]])
        imgs, _ = toy_images(2)
        items = [pipeline(dict(img=img, gt_seg_map=(img[..., 0] > 120).astype(np.uint8),
                               seg_fields=['gt_seg_map'], img_shape=img.shape[:2],
                               ori_shape=img.shape[:2], reduce_zero_label=False))
                 for img in imgs]
        data = model.data_preprocessor(dict(inputs=[d['inputs'] for d in items],
                                            data_samples=[d['data_samples'] for d in items]),
                                       True)
        losses = model(**data, mode='loss')
    assert torch.isfinite(losses['decode.loss_ce'])
    for sample in data['data_samples']:
        assert tuple(sample.superpixels.shape) == tuple(data['inputs'].shape[-2:])
