# DNC on ImageNet-1k, ResNet-50 (paper: 76.20 -> 76.49 top-1). The schedule is mmpretrain's
# ImageNet one (8 GPUs x 32, SGD lr 0.1, wd 1e-4, steps at 30/60/90, 100 epochs); only the
# head changes: K=4 cosine sub-centroids per class on the 2048-d pooled feature, moved by
# the SinkhornClusteringHook instead of SGD.
_base_ = ['./resnet50_8xb32_in1k.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
model = dict(
    head=dict(
        _delete_=True,
        type='DNCClsHead',
        num_classes=1000,
        in_channels=2048,
        num_sub_centroids=4,
        logit_norm='layernorm',
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
# 256 features per class = 256k in all, the paper's "1000 batches of 256" (clustered every
# iteration: features of all GPUs are gathered, so every rank computes the same centroids).
# interval 1, momentum 0.999, epsilon 0.05, 3 Sinkhorn iterations: the hook's defaults
custom_hooks = [dict(type='SinkhornClusteringHook', memory_size=256)]
