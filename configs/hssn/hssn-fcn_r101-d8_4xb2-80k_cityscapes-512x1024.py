# HSSN on Cityscapes with an FCN R101-D8 head: focal tree-min + tree-triplet losses.
_base_ = ['./fcn_r101-d8_4xb2-80k_cityscapes-512x1024.py']
model = dict(
    type='HieraEncoderDecoder',  # adds the prediction at every level
    decode_head=dict(
        type='HieraFCNHead',
        hierarchy='cityscapes',
        loss_decode=dict(_delete_=True, type='TreeMinLoss', gamma=2.0, loss_weight=1.0),
        loss_triplet=dict(type='TreeTripletLoss', loss_weight=0.5)))
