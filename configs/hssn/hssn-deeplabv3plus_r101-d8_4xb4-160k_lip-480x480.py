# HSSN on LIP: DeepLabV3+ R101-D8, focal tree-min + tree-triplet losses, 4 GPUs x 4
# images, 160k iterations, SGD lr 0.007 poly 0.9 (the public settings).
# Paper: mIoU 98.86 / 94.75 / 60.37 (coarse -> fine).
_base_ = ['./deeplabv3plus_r101-d8_4xb4-160k_lip-480x480.py']
model = dict(
    type='HieraEncoderDecoder',  # adds the prediction at every level
    decode_head=dict(
        type='HieraSepASPPHead',
        hierarchy='lip',
        loss_decode=dict(_delete_=True, type='TreeMinLoss', gamma=2.0, loss_weight=1.0),
        loss_triplet=dict(type='TreeTripletLoss', loss_weight=0.5)))
