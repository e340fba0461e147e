# CAST-tiny (96-d, 4 blocks, graph pooling ~75 superpixels -> 16 -> 8 -> 4 -> 2) with a linear
# head on the generated toy objects, for the CPU (a few minutes on one core):
#   python tools/make_toy_objects.py data/toy_objects
#   python tools/train.py configs/cast/cast-tiny_1xb32-30e_toy-objects-64x64.py
# The same-size ViT beside it: vit-tiny-p8_1xb32-30e_toy-objects-64x64.py.
_base_ = [
    'mmpretrain::_base_/default_runtime.py', '../_base_/datasets/toy_objects_cast.py',
    '../_base_/hieraseg.py'
]
model = dict(
    type='CASTImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='CAST', arch='tiny'),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=4,
        in_channels=96,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, end=2, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=2)
]
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=13),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=1))
randomness = dict(seed=0)
