# HSSN on PASCAL-Person-Part: DeepLabV3+ R101-D8, hieraseg's HSSN recipe
# (configs/_base_/hssn_recipe.py: 5 FTM + CE per level + TT; the public PPP code uses
# 0.5 FTM + 0.5 RMI + CE), 4 GPUs x 4 images, 60k iterations, SGD lr 0.007 poly 0.9 (the
# public settings).
# Paper: mIoU 97.69 / 88.20 / 75.44 (coarse -> fine).
_base_ = [
    './deeplabv3plus_r101-d8_4xb4-60k_pascal-person-part-480x480.py', '../_base_/hssn_recipe.py'
]
model = dict(
    type='HieraEncoderDecoder',  # adds the prediction at every level
    decode_head=dict(
        type='HieraSepASPPHead',
        hierarchy='pascal_person_part',
        loss_decode={{_base_.hssn_loss_decode}},
        loss_triplet={{_base_.hssn_loss_triplet}}))
