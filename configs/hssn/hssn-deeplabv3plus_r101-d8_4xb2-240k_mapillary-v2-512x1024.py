# HSSN on Mapillary Vistas 2.0 with hieraseg's 124 -> 16 -> 4 hierarchy (ours: the paper does
# not publish its mapping). Paper: mIoU 40.16 / 71.40 / 85.27 (fine -> coarse).
_base_ = ['./deeplabv3plus_r101-d8_4xb2-240k_mapillary-v2-512x1024.py']
model = dict(
    type='HieraEncoderDecoder',  # adds the prediction at every level
    decode_head=dict(
        type='HieraSepASPPHead',
        hierarchy='mapillary_v2',
        loss_decode=dict(_delete_=True, type='TreeMinLoss', gamma=2.0, loss_weight=1.0),
        loss_triplet=dict(type='TreeTripletLoss', loss_weight=0.5)))
