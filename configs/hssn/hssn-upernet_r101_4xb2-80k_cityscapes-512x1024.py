# HSSN on Cityscapes with a UPerNet R101 head: focal tree-min + tree-triplet losses; the
# embedding branch reads the deepest backbone feature (2048 channels).
_base_ = ['./upernet_r101_4xb2-80k_cityscapes-512x1024.py']
model = dict(
    type='HieraEncoderDecoder',  # adds the prediction at every level
    decode_head=dict(
        type='HieraUPerHead',
        hierarchy='cityscapes',
        loss_decode=dict(_delete_=True, type='TreeMinLoss', gamma=2.0, loss_weight=1.0),
        loss_triplet=dict(type='TreeTripletLoss', loss_weight=0.5)))
