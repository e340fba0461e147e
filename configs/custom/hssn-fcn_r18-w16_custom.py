# HSSN on YOUR data (configs/custom/custom_data.py: data, hierarchy, schedule): the flat
# template's FCN with an HSSN head (one output per hierarchy node, embedding branch) trained
# with hieraseg's HSSN recipe (configs/_base_/hssn_recipe.py: focal tree-min + one softmax
# CE per level + tree-triplet), hierarchical inference, mIoU at every level. As the toy
# config hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py. Nothing to edit here.
_base_ = ['./fcn_r18-w16_custom.py', '../_base_/hssn_recipe.py']
model = dict(
    type='HieraEncoderDecoder',
    decode_head=dict(
        type='HieraFCNHead',
        hierarchy={{_base_.hierarchy}},
        num_classes=None,  # follows from the hierarchy (its leaves)
        embedding_channels=32,
        loss_decode={{_base_.hssn_loss_decode}},
        loss_triplet={{_base_.hssn_loss_triplet}}))
