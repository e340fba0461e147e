# The generated toy classification set with object masks (python tools/make_toy_objects.py
# data/toy_objects): 64x64 images, one object of 4 shape classes on a textured background.
# Superpixels are computed last, on the augmented image (mmpretrain's transforms do not move
# them); 81 asked per 64x64 image (compactness 30): 66..88 segments on the training images.
dataset_type = 'ToyObjectsDataset'
data_root = 'data/toy_objects'
data_preprocessor = dict(
    type='CASTClsDataPreprocessor',
    num_classes=4,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
superpixels = dict(type='Superpixels', num_segments=81, compactness=30.0)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    superpixels,
    dict(type='PackCASTInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    superpixels,
    dict(type='PackCASTInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=50,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
