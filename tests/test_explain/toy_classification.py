"""A tiny image-classification set (generated 32x32 PNGs, one folder per class) and a
DNC ResNet config for it, written where a test asks."""
import os
import os.path as osp

import numpy as np
from PIL import Image

CLASSES = ('blue', 'green', 'red')  # folder order = class ids (CustomDataset sorts)
SIZE = 32

CONFIG = """
default_scope = 'mmpretrain'
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
data_root = {root!r}
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='DNCClsHead', num_classes=3, in_channels=128, num_sub_centroids=2,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
data_preprocessor = dict(num_classes=3, mean=[127.5] * 3, std=[64.0] * 3, to_rgb=True)
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root=data_root,
                 data_prefix=dict(img_path='train'),
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                           dict(type='PackInputs')]))
test_dataloader = dict(
    batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root=data_root,
                 data_prefix=dict(img_path='val'), pipeline=test_pipeline))
test_evaluator = dict(type='Accuracy', topk=(1, ))
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
train_cfg = dict(by_epoch=False, max_iters=4)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4))
log_processor = dict(by_epoch=False)
custom_hooks = [dict(type='SinkhornClusteringHook', interval=1, momentum=0.9,
                     memory_size=64)]
"""


def make_image(class_id: int, rng: np.random.Generator) -> np.ndarray:
    """A noisy image with a square of the class's colour channel, ``[32, 32, 3]`` RGB."""
    image = rng.normal(110, 25, size=(SIZE, SIZE, 3))
    y, x = rng.integers(0, SIZE // 2, size=2)
    side = int(rng.integers(SIZE // 3, SIZE // 2))
    colour = np.full(3, 40.0)
    colour[2 - class_id] = 230  # blue, green, red -> channel 2, 1, 0
    image[y:y + side, x:x + side] = colour + rng.normal(0, 10, size=(side, side, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def make_toy_classification(root: str, per_class: int = 4, seed: int = 0) -> str:
    """Writes ``root/{train,val}/<class>/<i>.png`` and ``root/config.py``; returns the
    config path."""
    rng = np.random.default_rng(seed)
    for split, count in (('train', per_class), ('val', 2)):
        for class_id, name in enumerate(CLASSES):
            folder = osp.join(root, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                Image.fromarray(make_image(class_id, rng)).save(
                    osp.join(folder, f'{name}_{i:02d}.png'))
    config = osp.join(root, 'config.py')
    with open(config, 'w') as f:
        f.write(CONFIG.format(root=root))
    return config
