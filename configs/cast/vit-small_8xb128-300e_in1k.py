# ViT-S/16 (DeiT-S) baseline for cast-small_8xb128-300e_in1k.py: the same recipe (8 x 128
# images, AdamW lr 1e-3, 300 epochs, 5 warm-up, drop path 0.1, Mixup / CutMix, RandAugment,
# RandomErasing, label smoothing) on 14x14 patch tokens, no superpixels.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '../_base_/schedules/deit_adamw_300e_bs1024.py',
    'mmpretrain::_base_/default_runtime.py', '../_base_/hieraseg.py'
]
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer', arch='deit-small', img_size=224, patch_size=16,
        drop_path_rate=0.1),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=1000,
        in_channels=384,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=.02),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    ],
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
train_dataloader = dict(batch_size=128)
