# DNC on CIFAR-10, ResNet-50 (CIFAR stem). mmpretrain's CIFAR schedule; K=4 sub-centroids
# per class, 1000 features per class in the memory.
_base_ = ['./resnet50_8xb16_cifar10.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
model = dict(
    head=dict(
        _delete_=True,
        type='DNCClsHead',
        num_classes=10,
        in_channels=2048,
        num_sub_centroids=4,
        logit_norm='layernorm',
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
# interval 1, momentum 0.999, epsilon 0.05, 3 Sinkhorn iterations: the hook's defaults
custom_hooks = [dict(type='SinkhornClusteringHook', memory_size=1000)]
