# Flat baseline for hssn-deeplabv3plus_r101-d8_4xb4-160k_lip-480x480.py: DeepLabV3+ R101
# with softmax CE on the 20 LIP classes, evaluated at all three levels.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py', '../_base_/datasets/hiera_lip.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_160k_lr0.007.py'
]
crop_size = (480, 480)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    decode_head=dict(num_classes=20),
    auxiliary_head=dict(num_classes=20))
# flip test-time augmentation swaps the left/right classes back
tta_model = dict(type='FlipSwapSegTTAModel', flip_label_pairs={{_base_.lip_flip_pairs}})
