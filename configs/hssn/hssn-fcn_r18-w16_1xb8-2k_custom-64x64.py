# HSSN on YOUR data with YOUR class hierarchy: a template (README, "Your own data and
# hierarchy"). As shipped it trains on the generated toy set
# (python tools/make_toy_data.py data/toy_shapes), whose 6 -> 3 hierarchy is written out
# below as yours would be. The edits a new data set needs are the three marked EDIT:
#   1. where the images and labels are (data_root, sub-folders, file-name endings);
#   2. the hierarchy: leaf classes in label-id order (labels are single-channel PNGs holding
#      0 .. C-1, 255 = ignore) and how they group, level by level;
#   3. (optional) the crop size and the schedule for your image size.
# The hierarchy is written once: the head (its V outputs and its losses), the data set (its
# classes), the metric (mIoU at every level) and the visualizer all read it from here, and
# num_classes follows from it. For a bigger model, start from another HSSN config's model
# and keep the data part of this file.
_base_ = [
    '../_base_/models/fcn_r18-w16-d8.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_toy_2k.py', '../_base_/hssn_recipe.py'
]

# EDIT 1: the data. Any layout works: images under <data_root>/<img_path>, labels under
# <data_root>/<seg_map_path> with the same relative name, endings img_suffix / seg_map_suffix.
data_root = 'data/toy_shapes'
img_suffix = '_leftImg8bit.png'  # e.g. '.jpg'
seg_map_suffix = '_gtFine_labelTrainIds.png'  # e.g. '.png'
train_prefix = dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train')
val_prefix = dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val')

# EDIT 2: the hierarchy. 'classes' are the leaves in label-id order; 'groups' has one mapping
# per coarser level, finest first: group name -> its members in the level below (the group
# order is that level's node order). Instead of this dict, a file also works:
#   hierarchy = 'data/my_data/hierarchy.yaml'        # the same keys, or .json
#   hierarchy = ['data/my_data/level1.csv', ...]     # one child,parent CSV per coarser level
# (docs/datasets.md, "Your own hierarchy"). Check it with
#   python tools/hierarchy_stats.py THIS_CONFIG
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

# EDIT 3 (optional): crop size and schedule (configs/_base_/schedules/*.py).
crop_size = (64, 64)
train_cfg = dict(max_iters=2000, val_interval=1000)

# ---------------------------------------------------------------- nothing to edit below
dataset_type = 'HieraSegDataset'
metainfo = dict(hierarchy=hierarchy)  # classes = the hierarchy's leaves
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=crop_size, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),  # RandomFlipWithLabelSwap if classes name a side
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
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
    num_workers=0,
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
val_evaluator = dict(type='HierarchicalIoUMetric')  # reads the hierarchy from the data set
test_evaluator = val_evaluator

data_preprocessor = dict(size=crop_size)
model = dict(
    type='HieraEncoderDecoder',
    data_preprocessor=data_preprocessor,
    decode_head=dict(
        type='HieraFCNHead',
        hierarchy=hierarchy,
        num_classes=None,  # follows from the hierarchy (its leaves)
        embedding_channels=32,
        loss_decode={{_base_.hssn_loss_decode}},
        loss_triplet={{_base_.hssn_loss_triplet}}))
randomness = dict(seed=0)
