# ADE20K for CAST: mmseg's ade20k data with Superpixels computed after every augmentation,
# one segment per 256 pixels (as voc12aug_cast_512x512.py); no Pad step (the data
# preprocessor pads images, labels and superpixels).
_base_ = ['mmseg::_base_/datasets/ade20k.py']
crop_size = (512, 512)
superpixels = dict(type='Superpixels', method='slic', segment_area=256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    superpixels,
    dict(type='PackCASTSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    superpixels,
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackCASTSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
