# ViT-S/16 (DeiT-S) in mmseg with the head of cast-s_fcn.py: blocks 3, 6, 9, 12 at 1/16,
# concatenated and classified by a one-conv FCN head. Initialised from DeiT-S ImageNet-1K
# weights converted with mmseg's tools/model_converters/vit2mmseg.py (mmseg's own
# vit_deit-s16 configs use the same file name).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained='pretrain/deit_small_patch16_224-cd65a155.pth',
    backbone=dict(
        type='VisionTransformer',
        img_size=(512, 512),
        patch_size=16,
        embed_dims=384,
        num_layers=12,
        num_heads=6,
        out_indices=(2, 5, 8, 11),
        drop_path_rate=0.1,
        with_cls_token=True,
        final_norm=True,
        norm_cfg=dict(type='LN', eps=1e-6),
        interpolate_mode='bicubic'),
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
