# CAST-S as an mmseg backbone: the tokens of all four levels (superpixels, 64, 32, 16
# clusters) lifted back to the superpixels by the soft assignments and painted onto a 1/8
# grid, concatenated and classified by a one-conv FCN head. Initialised from a CAST-S
# ImageNet-1K checkpoint (configs/cast/cast-small_8xb128-300e_in1k.py; path below).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='CASTSegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512))
model = dict(
    type='CASTEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='CAST',
        arch='small',
        out_type='featmap',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/cast-small_8xb128-300e_in1k/epoch_300.pth',
            prefix='backbone.')),
    decode_head=dict(
        type='FCNHead',
        in_channels=[384, 384, 384, 384],
        in_index=[0, 1, 2, 3],
        input_transform='resize_concat',
        channels=384,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
