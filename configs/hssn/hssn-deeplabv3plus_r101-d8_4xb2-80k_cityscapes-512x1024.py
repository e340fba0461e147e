# HSSN (CVPR 2022) on Cityscapes, 19 -> 7: DeepLabV3+ R101-D8, hieraseg's HSSN recipe
# (configs/_base_/hssn_recipe.py: 5 FTM + CE per level + TT), 4 GPUs x 2 images, 80k
# iterations, SGD lr 0.01 poly 0.9 (the public settings).
# Paper: mIoU 83.02 (19 classes) / 93.31 (7 categories).
_base_ = [
    './deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py', '../_base_/hssn_recipe.py'
]
model = dict(
    type='HieraEncoderDecoder',  # adds the prediction at every level
    decode_head=dict(
        type='HieraSepASPPHead',
        hierarchy='cityscapes',
        loss_decode={{_base_.hssn_loss_decode}},
        loss_triplet={{_base_.hssn_loss_triplet}}))
