# Transfer: DNC-DeepLabV3 on Cityscapes whose backbone starts from a DNC ImageNet model
# (dnc_resnet50_8xb32_in1k.py). Only the backbone is taken from that checkpoint (the
# 'backbone.' entries of its state dict); the ImageNet sub-centroids and memory are not
# needed. mmpretrain's ResNet-50 is the V1b layout (7x7 stem), so the segmentation backbone
# is mmseg's 'ResNet' (V1b), dilated to output stride 8, instead of the usual ResNetV1c.
#   python tools/train.py configs/dnc/dnc_resnet50_8xb32_in1k.py
#   python tools/train.py configs/dnc/<this file> --cfg-options \
#       model.backbone.init_cfg.checkpoint=work_dirs/dnc_resnet50_8xb32_in1k/epoch_100.pth
# (dnc_imagenet_checkpoint below is copied into that key when the file is read; changing the
# variable with --cfg-options would change nothing, and tools/train.py refuses it.)
_base_ = ['./dnc-deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py']
dnc_imagenet_checkpoint = 'work_dirs/dnc_resnet50_8xb32_in1k/epoch_100.pth'
model = dict(
    pretrained=None,
    backbone=dict(
        type='ResNet',
        depth=50,
        init_cfg=dict(
            type='Pretrained', checkpoint=dnc_imagenet_checkpoint, prefix='backbone.')))
