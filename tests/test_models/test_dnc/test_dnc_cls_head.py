"""DNCClsHead: as an mmpretrain head, and inside an ImageClassifier trained by mmengine's
Runner with the clustering hook on small synthetic images (mmpretrain's real pipeline)."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from PIL import Image

from hieraseg.engine.hooks import SinkhornClusteringHook
from hieraseg.models.heads import DNCClsHead


@pytest.fixture(autouse=True)
def mmpretrain_scope():
    """The head builds its loss in the current default scope: make it mmpretrain's."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


def samples(labels, scores=None):
    out = []
    for i, label in enumerate(labels):
        s = DataSample().set_gt_label(int(label))
        if scores is not None:
            s.set_gt_score(scores[i])
        out.append(s)
    return out


def test_registered_in_mmpretrain_and_classifies():
    head = MODELS.build(dict(type='DNCClsHead', num_classes=5, in_channels=16,
                             num_sub_centroids=3, topk=(1, )))
    assert isinstance(head, DNCClsHead)
    assert head.classifier.centroids.shape == (5, 3, 16)
    feats = (torch.randn(4, 8), torch.randn(4, 16))
    logits = head(feats)
    assert logits.shape == (4, 5)
    preds = head.predict(feats)
    assert [int(p.pred_label) for p in preds] == logits.argmax(1).tolist()
    assert head.classifier.pop_kept() is None  # inference keeps nothing


def test_loss_keeps_features_and_labels():
    head = DNCClsHead(num_classes=5, in_channels=16, loss_contrast_weight=0.01,
                      loss_compact_weight=0.001, cal_acc=True)
    head.train()
    x = torch.randn(6, 16, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    losses = head.loss((x, ), samples(labels))
    assert {'loss', 'loss_contrast', 'loss_compact', 'accuracy_top-1'} <= set(losses)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert x.grad is not None
    feats, kept_labels = head.classifier.pop_kept()
    assert torch.equal(kept_labels, labels)
    # The kept features are the embedded ones: LayerNorm over channels (identity affine
    # at init), then L2.
    y = x.detach() - x.detach().mean(1, keepdim=True)
    y = y / torch.sqrt(y.pow(2).mean(1, keepdim=True) + 1e-5)
    assert torch.allclose(feats, torch.nn.functional.normalize(y, dim=1), atol=1e-5)


def test_out_of_range_label_names_the_image():
    head = DNCClsHead(num_classes=5, in_channels=16)
    head.train()
    data_samples = samples([0, 7])
    data_samples[1].set_metainfo(dict(img_path='/data/cat/7.png'))
    with pytest.raises(ValueError, match=r'DNCClsHead: label 7 in the labels of '
                       r'/data/cat/7.png is outside the 5 classes \(0..4\)$'):
        head.loss((torch.randn(2, 16), ), data_samples)


def test_mixup_scores_train_and_keep_original_labels():
    head = DNCClsHead(num_classes=3, in_channels=8,
                      loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                                mode='original'))
    head.train()
    labels = torch.tensor([0, 2])
    scores = torch.tensor([[0.7, 0.0, 0.3], [0.0, 0.4, 0.6]])
    losses = head.loss((torch.randn(2, 8), ), samples(labels, scores))
    assert torch.isfinite(losses['loss'])
    assert torch.equal(head.classifier.pop_kept()[1], labels)


@pytest.mark.parametrize('kwargs,match', [(dict(num_sub_centroids=0), 'num_sub_centroids'),
                                          (dict(logit_norm='cosine'), 'logit_norm'),
                                          (dict(loss_contrast_weight=-1.), 'loss weights')])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DNCClsHead(num_classes=3, in_channels=8, **kwargs)


# --- training through mmpretrain's pipeline ---------------------------------------------
COLOURS = np.array([[200, 40, 40], [40, 190, 60], [50, 60, 210]])


def write_images(root, per_class, seed):
    """CustomDataset layout: root/<class>/<n>.png, 32x32 noisy images of a class colour."""
    rng = np.random.default_rng(seed)
    for c, colour in enumerate(COLOURS):
        os.makedirs(osp.join(root, f'class_{c}'), exist_ok=True)
        for n in range(per_class):
            img = colour * rng.uniform(0.6, 1.0) + rng.normal(0, 40, (32, 32, 3))
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
                osp.join(root, f'class_{c}', f'{n}.png'))


def classifier_cfg(data_root, work_dir, epochs):
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='PackInputs')]
    test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]

    def loader(split, shuffle, pipe):
        return dict(batch_size=8, num_workers=0,
                    sampler=dict(type='DefaultSampler', shuffle=shuffle),
                    dataset=dict(type='CustomDataset', data_root=osp.join(data_root, split),
                                 pipeline=pipe))

    return Config(dict(
        default_scope='mmpretrain',
        custom_imports=dict(imports=['hieraseg'], allow_failed_imports=False),
        work_dir=work_dir,
        randomness=dict(seed=0),
        model=dict(
            type='ImageClassifier',
            data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=3,
                                   mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True),
            backbone=dict(type='ResNet', depth=18, stem_channels=16, base_channels=16,
                          out_indices=(3, )),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='DNCClsHead', num_classes=3, in_channels=128,
                      num_sub_centroids=2, topk=(1, ))),
        train_dataloader=loader('train', True, pipeline),
        train_cfg=dict(by_epoch=True, max_epochs=epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        custom_hooks=[dict(type='SinkhornClusteringHook', memory_size=16, momentum=0.9)],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=5),
                           checkpoint=dict(type='CheckpointHook', interval=10**6)),
        val_loader_for_test=loader('val', False, test_pipeline),
    ))


def accuracy(model, dataloader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for data in dataloader:
            for out in model.test_step(data):
                correct += int(out.pred_label == out.gt_label)
                total += 1
    model.train()
    return correct / total


def test_image_classifier_with_dnc_head_trains(tmp_path):
    data_root = str(tmp_path / 'images')
    write_images(osp.join(data_root, 'train'), per_class=16, seed=0)
    write_images(osp.join(data_root, 'val'), per_class=8, seed=1)
    cfg = classifier_cfg(data_root, str(tmp_path / 'work'), epochs=4)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert isinstance(model.head, DNCClsHead)
    model.init_weights()
    val_loader = Runner.build_dataloader(cfg.val_loader_for_test)
    before = accuracy(model, val_loader)
    centroids0 = model.head.classifier.centroids.clone()

    runner.train()  # 4 epochs of 6 iterations

    after = accuracy(model, val_loader)
    assert after >= 0.8 and after > before + 0.2, (before, after)
    assert not torch.allclose(model.head.classifier.centroids, centroids0)
    hook = next(h for h in runner.hooks if isinstance(h, SinkhornClusteringHook))
    assert hook.memories['head.classifier'].count.tolist() == [16, 16, 16]


def test_feat_norm_option_and_bad_value_at_build_time():
    from mmpretrain.registry import MODELS
    head = MODELS.build(dict(type='DNCClsHead', num_classes=5, in_channels=16))
    assert isinstance(head.classifier.feat_norm, torch.nn.LayerNorm)
    head = MODELS.build(dict(type='DNCClsHead', num_classes=5, in_channels=16,
                             feat_norm=None))
    assert head.classifier.feat_norm is None
    with pytest.raises(ValueError, match="feat_norm must be one of .*'batchnorm'"):
        MODELS.build(dict(type='DNCClsHead', num_classes=5, in_channels=16,
                          feat_norm='batchnorm'))
