# HSSN on Cityscapes with an FCN R101-D8 head, trained with hieraseg's HSSN recipe
# (configs/_base_/hssn_recipe.py: 5 FTM + CE per level + TT).
_base_ = ['./fcn_r101-d8_4xb2-80k_cityscapes-512x1024.py', '../_base_/hssn_recipe.py']
model = dict(
    type='HieraEncoderDecoder',  # adds the prediction at every level
    decode_head=dict(
        type='HieraFCNHead',
        hierarchy='cityscapes',
        loss_decode={{_base_.hssn_loss_decode}},
        loss_triplet={{_base_.hssn_loss_triplet}}))
