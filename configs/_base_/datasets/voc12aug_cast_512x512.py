# PASCAL VOC 2012 + SBD ('aug') for CAST: mmseg's pascal_voc12_aug data with Superpixels
# computed after every augmentation, at CAST's density (one segment per 256 pixels: 196 on
# 224x224, 1024 on a 512x512 crop, ~1370 on a 512x683 test image). mmseg's Pad step is left
# out: the data preprocessor pads images, labels and superpixels (-1) to the crop size.
_base_ = ['mmseg::_base_/datasets/pascal_voc12_aug.py']
crop_size = (512, 512)
superpixels = dict(type='Superpixels', method='slic', segment_area=256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
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
    dict(type='LoadAnnotations'),
    dict(type='PackCASTSegInputs'),
]
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(type='PascalVOCDataset', data_root='data/VOCdevkit/VOC2012',
             data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
             ann_file='ImageSets/Segmentation/train.txt', pipeline=train_pipeline),
        dict(type='PascalVOCDataset', data_root='data/VOCdevkit/VOC2012',
             data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
             ann_file='ImageSets/Segmentation/aug.txt', pipeline=train_pipeline),
    ]))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
