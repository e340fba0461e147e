# Flat baseline on YOUR data with DeepLabV3+ R101-D8 (mmseg's model, ImageNet-pretrained
# backbone), for images of hundreds of pixels and more (configs/custom/custom_data.py: data,
# hierarchy, schedule; there set img_scale and crop_size to your images, e.g. (1024, 512)
# and (512, 512), and batch_size >= 2). SGD lr 0.01 as mmseg's Cityscapes configs. The
# backbone's weights are downloaded on the first run (docs/own_data.md, offline: set
# model.pretrained=None to train from scratch). Nothing to edit here.
_base_ = [
    './custom_data.py', 'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/default_runtime.py'
]
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
