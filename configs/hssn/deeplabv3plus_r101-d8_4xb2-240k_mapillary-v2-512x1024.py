# Flat baseline for hssn-deeplabv3plus_r101-d8_4xb2-240k_mapillary-v2-512x1024.py: DeepLabV3+
# R101 with softmax CE on Mapillary Vistas 2.0's 124 classes, evaluated at all three levels.
# HSSN does not publish its Mapillary schedule; this follows mmseg's Mapillary settings
# (512x1024 crops, 4 GPUs x 2 images) with the 240k schedule.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py', '../_base_/datasets/hiera_mapillary_v2.py',
    '../_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_240k.py'
]
crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    decode_head=dict(num_classes=124),
    auxiliary_head=dict(num_classes=124))
