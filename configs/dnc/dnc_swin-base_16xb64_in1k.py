# DNC on ImageNet-1k, Swin-B (paper: 83.36 -> 83.68 top-1). As the Swin-S config, with the
# 1024-d feature of Swin-B.
_base_ = ['./swin-base_16xb64_in1k.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
model = dict(
    head=dict(
        _delete_=True,
        type='DNCClsHead',
        num_classes=1000,
        in_channels=1024,
        num_sub_centroids=4,
        logit_norm='layernorm',
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        cal_acc=False))
# interval 1, momentum 0.999, epsilon 0.05, 3 Sinkhorn iterations: the hook's defaults
custom_hooks = [dict(type='SinkhornClusteringHook', memory_size=256)]
