# HSSN on PASCAL-Person-Part: DeepLabV3+ R101-D8, focal tree-min + tree-triplet losses,
# 4 GPUs x 4 images, 60k iterations, SGD lr 0.007 poly 0.9 (the public settings).
# Paper: mIoU 97.69 / 88.20 / 75.44 (coarse -> fine).
_base_ = ['./deeplabv3plus_r101-d8_4xb4-60k_pascal-person-part-480x480.py']
model = dict(
    type='HieraEncoderDecoder',  # adds the prediction at every level
    decode_head=dict(
        type='HieraSepASPPHead',
        hierarchy='pascal_person_part',
        loss_decode=dict(_delete_=True, type='TreeMinLoss', gamma=2.0, loss_weight=1.0),
        loss_triplet=dict(type='TreeTripletLoss', loss_weight=0.5)))
