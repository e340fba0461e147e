# CAST-S supervised on ImageNet-1K with the DeiT recipe, as the paper (and the authors'
# deit/main_suppix.py): 8 GPUs x 128 images, AdamW lr 5e-4 x 1024 / 512, weight decay 0.05,
# 300 epochs cosine to 1e-5 after 5 warm-up epochs, drop path 0.1, label smoothing 0.1,
# Mixup 0.8 / CutMix 1.0 (one of them per batch; they move the superpixels too, see
# CASTClsDataPreprocessor), RandAugment m9-mstd0.5, RandomErasing 0.25; 196 SLIC superpixels.
# The authors also use repeated augmentation and a model EMA; neither is here (as in
# mmpretrain's deit-small config). Paper: 68.1 top-1 at 3.4 GFLOPs (ViT-S 67.9 at 4.7).
# Baseline beside it: vit-small_8xb128-300e_in1k.py.
_base_ = [
    '../_base_/datasets/imagenet_cast_224.py',
    '../_base_/schedules/deit_adamw_300e_bs1024.py',
    'mmpretrain::_base_/default_runtime.py', '../_base_/hieraseg.py'
]
model = dict(
    type='CASTImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='CAST', arch='small', drop_path_rate=0.1),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=384,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=.02),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    ],
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
train_dataloader = dict(batch_size=128)
