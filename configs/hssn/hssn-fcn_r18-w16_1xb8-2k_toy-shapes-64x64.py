# HSSN on the toy data set: the flat baseline's small FCN turned into an HSSN head (V = 9
# node outputs, embedding branch), trained with hieraseg's HSSN recipe
# (configs/_base_/hssn_recipe.py: 5 focal tree-min + one softmax CE per level + tree-triplet)
# over the 6 -> 3 hierarchy, with hierarchical inference and mIoU at both levels.
# The demo (tools/demo.sh). Flat baseline: fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py.
_base_ = ['./fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py', '../_base_/hssn_recipe.py']
model = dict(
    type='HieraEncoderDecoder',  # node logits to the output size, then paths; every level
    decode_head=dict(
        type='HieraFCNHead',
        hierarchy='toy_shapes',
        embedding_channels=32,
        loss_decode={{_base_.hssn_loss_decode}},
        loss_triplet={{_base_.hssn_loss_triplet}}))
