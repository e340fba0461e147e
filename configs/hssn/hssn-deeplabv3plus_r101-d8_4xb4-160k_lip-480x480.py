# HSSN on LIP: DeepLabV3+ R101-D8, hieraseg's HSSN recipe (configs/_base_/hssn_recipe.py:
# 5 FTM + CE per level + TT; the public LIP code uses 0.5 FTM + 0.5 RMI + CE), 4 GPUs x 4
# images, 160k iterations, SGD lr 0.007 poly 0.9 (the public settings).
# Paper: mIoU 98.86 / 94.75 / 60.37 (coarse -> fine).
_base_ = ['./deeplabv3plus_r101-d8_4xb4-160k_lip-480x480.py', '../_base_/hssn_recipe.py']
model = dict(
    type='HieraEncoderDecoder',  # adds the prediction at every level
    decode_head=dict(
        type='HieraSepASPPHead',
        hierarchy='lip',
        loss_decode={{_base_.hssn_loss_decode}},
        loss_triplet={{_base_.hssn_loss_triplet}}))
