# HSSN on Cityscapes with a UPerNet R101 head, trained with hieraseg's HSSN recipe
# (configs/_base_/hssn_recipe.py: 5 FTM + CE per level + TT); the embedding
# branch reads the deepest backbone feature (2048 channels).
_base_ = ['./upernet_r101_4xb2-80k_cityscapes-512x1024.py', '../_base_/hssn_recipe.py']
model = dict(
    type='HieraEncoderDecoder',  # adds the prediction at every level
    decode_head=dict(
        type='HieraUPerHead',
        hierarchy='cityscapes',
        loss_decode={{_base_.hssn_loss_decode}},
        loss_triplet={{_base_.hssn_loss_triplet}}))
