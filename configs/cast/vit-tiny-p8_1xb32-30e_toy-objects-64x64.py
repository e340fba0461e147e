# A ViT of CAST-tiny's size on the toy objects, the baseline of
# cast-tiny_1xb32-30e_toy-objects-64x64.py: 96-d, 3 heads, 4 blocks, 8x8 patches (64 patch
# tokens on 64x64, about as many as CAST's superpixels), same head, data and schedule.
# Segments for the comparison: its last patch tokens grouped by k-means
# (experiments/cast_toy_eval.py).
_base_ = ['./cast-tiny_1xb32-30e_toy-objects-64x64.py']
model = dict(
    _delete_=True,
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(
        type='VisionTransformer',
        arch=dict(embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384),
        img_size=64,
        patch_size=8,
        out_type='cls_token',
        with_cls_token=True,
        final_norm=True),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=4,
        in_channels=96,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
