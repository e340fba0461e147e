# ImageNet with superpixels for CAST: mmpretrain's DeiT data recipe (RandomResizedCrop 224,
# flip, RandAugment m9-mstd0.5, RandomErasing 0.25; test: resize 256, centre crop 224) with
# Superpixels (SLIC, 196 segments) computed last, on the augmented image, as the CAST authors
# compute theirs (mmpretrain's transforms would not move a map computed earlier).
_base_ = ['mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py']
data_preprocessor = dict(type='CASTClsDataPreprocessor')
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
superpixels = dict(type='Superpixels', method='slic', num_segments=196)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    superpixels,
    dict(type='PackCASTInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    superpixels,
    dict(type='PackCASTInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
