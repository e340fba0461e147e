# YOUR data set, class hierarchy and schedule: the one file that every own-data template in
# this folder reads -- fcn_r18-w16_custom.py (flat), hssn-fcn_r18-w16_custom.py (HSSN),
# dnc-fcn_r18-w16_custom.py (DNC), hiera-dnc-fcn_r18-w16_custom.py (hierarchical DNC), and
# the same four with DeepLabV3+ R101 for bigger images (*deeplabv3plus_r101-d8_custom.py).
# Edit the three places marked EDIT once; every method then trains on the same data with
# the same schedule. As shipped it is the generated toy set (python tools/make_toy_data.py)
# with its 6 -> 3 hierarchy written out as yours would be.
#
# The quicker way (docs/own_data.md): tools/new_config.py fills these values in for you and
# writes ONE self-contained config that works from any folder:
#   python tools/new_config.py --method hiera-dnc --data-root data/my_data \
#       --hierarchy data/my_data/hierarchy.yaml --max-iters 4000 --out my_config.py
# A template copied out of configs/custom/ loses its _base_ files (they are read relative to
# the config's folder): copy this whole folder next to configs/_base_, or use the tool.

# EDIT 1: where the files are. Images under <data_root>/<img_path>, labels (single-channel
# PNGs of class ids 0 .. C-1, 255 = ignore) under <data_root>/<seg_map_path> with the same
# relative name, endings img_suffix / seg_map_suffix. data_root is relative to the folder
# you start training from (or absolute).
data_root = 'data/toy_shapes'
img_suffix = '_leftImg8bit.png'  # e.g. '.jpg'
seg_map_suffix = '_gtFine_labelTrainIds.png'  # e.g. '.png'
train_prefix = dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train')
val_prefix = dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val')

# EDIT 2: the hierarchy. 'classes' are the leaves in label-id order; 'groups' has one mapping
# per coarser level, finest first: group name -> its members in the level below (the group
# order is that level's node order). A file works too (docs/own_data.md has a complete
# three-level YAML and CSV example):
#   hierarchy = 'hierarchy.yaml'                    # or .json: the same keys
#   hierarchy = ['class_to_category.csv', ...]      # one child,parent CSV per coarser level
# A relative file path is looked up in this config's folder first, then in the folder you
# start from. Check it with: python tools/hierarchy_stats.py THE_METHOD_CONFIG
hierarchy = dict(
    name='my_hierarchy',
    level_names=['texture', 'colour'],
    classes=['background', 'warm plain', 'warm striped', 'cool plain', 'cool striped',
             'cool dotted'],
    groups=[
        {
            'background': ['background'],
            'warm': ['warm plain', 'warm striped'],
            'cool': ['cool plain', 'cool striped', 'cool dotted'],
        },
    ])
# The number of leaf classes: the flat and DNC heads and DeepLabV3+'s auxiliary head need
# it. With a hierarchy FILE, write the number here (tools/new_config.py does).
num_classes = len(hierarchy['classes'])

# EDIT 3: the schedule and the sizes. Everything that counts iterations follows max_iters:
# the learning rate decays to max_iters (the hierarchical DNC templates warm up over the
# first 10 %), validation runs twice and checkpoints are written four times per run, so a
# short run leaves some to resume from (python tools/train.py CONFIG --resume).
# tools/train.py --max-iters N rescales all of it for one run without editing.
max_iters = 2000
checkpoint_interval = max(1, max_iters // 4)
val_interval = max(1, max_iters // 2)
img_scale = (64, 64)  # (width, height) images are resized to (keeping their aspect ratio)
crop_size = (64, 64)  # (height, width) of the training crops, at most the resized images
batch_size = 8  # images per GPU (BatchNorm needs >= 2)
num_workers = 2  # data loading processes per GPU (0: load in the training process)

# ------------------------------------------------ nothing to edit below: derived from above
dataset_type = 'HieraSegDataset'
metainfo = dict(hierarchy=hierarchy)  # classes = the hierarchy's leaves
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),  # RandomFlipWithLabelSwap if classes name a side
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),  # the metric compares at the label's own size
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    persistent_workers=num_workers > 0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=train_prefix,
        img_suffix=img_suffix,
        seg_map_suffix=seg_map_suffix,
        metainfo=metainfo,
        check_labels=True,  # every label file scanned once for values outside the classes
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=num_workers,
    persistent_workers=num_workers > 0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=val_prefix,
        img_suffix=img_suffix,
        seg_map_suffix=seg_map_suffix,
        metainfo=metainfo,
        check_labels=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='HierarchicalIoUMetric')  # mIoU per level, from the data set
test_evaluator = val_evaluator

# The schedule's shape; the learning rate is the model's (each template sets optimizer).
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)
]
# The hierarchical DNC templates: a linear warm-up from lr / 10 over the first 10 % of the
# iterations (the toy config's 200 of 2000; without one, leaf classes died on the toy set),
# then the same poly decay.
warmup_iters = max(1, max_iters // 10)
warmup_param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=warmup_iters, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=warmup_iters, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=min(50, max_iters), log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=checkpoint_interval),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='HieraSegVisualizationHook'))  # pictures: docs/own_data.md
randomness = dict(seed=0)
