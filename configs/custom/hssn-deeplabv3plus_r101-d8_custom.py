# HSSN on YOUR data with DeepLabV3+ R101-D8 (configs/custom/custom_data.py: data,
# hierarchy, schedule): the flat DeepLabV3+ template with an HSSN head and hieraseg's HSSN
# recipe, as configs/hssn/hssn-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py. The
# auxiliary FCN head stays a flat softmax over the leaves. Nothing to edit here.
_base_ = ['./deeplabv3plus_r101-d8_custom.py', '../_base_/hssn_recipe.py']
model = dict(
    type='HieraEncoderDecoder',
    decode_head=dict(
        type='HieraSepASPPHead',
        hierarchy={{_base_.hierarchy}},
        num_classes=None,  # follows from the hierarchy (its leaves)
        loss_decode={{_base_.hssn_loss_decode}},
        loss_triplet={{_base_.hssn_loss_triplet}}))
