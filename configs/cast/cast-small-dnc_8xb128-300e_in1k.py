# CAST-S with hieraseg's DNC classification head on the class token, otherwise
# cast-small_8xb128-300e_in1k.py: K=4 sub-centroids per class, clustered by the
# SinkhornClusteringHook (memory of 256 features per class). With Mixup / CutMix the
# clustering uses each image's original label (as dnc/dnc_swin-small_16xb64_in1k.py).
_base_ = ['./cast-small_8xb128-300e_in1k.py']
model = dict(
    head=dict(
        _delete_=True,
        type='DNCClsHead',
        num_classes=1000,
        in_channels=384,
        num_sub_centroids=4,
        logit_norm='layernorm',
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        cal_acc=False))
# interval 1, momentum 0.999, epsilon 0.05, 3 Sinkhorn iterations: the hook's defaults
custom_hooks = [dict(type='SinkhornClusteringHook', memory_size=256)]
