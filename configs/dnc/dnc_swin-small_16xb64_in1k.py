# DNC on ImageNet-1k, Swin-S. mmpretrain's Swin recipe (AdamW, Mixup/CutMix, label
# smoothing); K=4 sub-centroids on the 768-d pooled feature. With Mixup/CutMix the
# clustering uses each image's original label.
_base_ = ['./swin-small_16xb64_in1k.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
model = dict(
    head=dict(
        _delete_=True,
        type='DNCClsHead',
        num_classes=1000,
        in_channels=768,
        num_sub_centroids=4,
        logit_norm='layernorm',
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        cal_acc=False))
# interval 1, momentum 0.999, epsilon 0.05, 3 Sinkhorn iterations: the hook's defaults
custom_hooks = [dict(type='SinkhornClusteringHook', memory_size=256)]
