# DNC on ImageNet-1k, ResNet-101 (paper: 77.52 -> 77.80 top-1). The ResNet-50 DNC config
# with a 101-layer backbone, exactly as mmpretrain's resnet101_8xb32_in1k differs from
# resnet50_8xb32_in1k.
_base_ = ['./dnc_resnet50_8xb32_in1k.py']
model = dict(backbone=dict(depth=101))
