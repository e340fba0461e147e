# DNC-UPerNet, Swin-B, Cityscapes (paper: 79.8 -> 80.5 mIoU).
# Baseline: upernet_swin-b-p4-w7-in1k-pre_4xb2-80k_cityscapes-512x1024.py.
# Here its decode head's parametric classifier is replaced by a projection + K=10
# cosine sub-centroids per class, moved by the SinkhornClusteringHook.
_base_ = ['./upernet_swin-b-p4-w7-in1k-pre_4xb2-80k_cityscapes-512x1024.py']
model = dict(decode_head=dict(type='DNCUPerHead', num_sub_centroids=10, logit_norm='layernorm'))
# Up to 2000 pixel embeddings per class, gathered from all GPUs, clustered every iteration.
# interval 1, momentum 0.999, epsilon 0.05, 3 Sinkhorn iterations: the hook's defaults
custom_hooks = [dict(type='SinkhornClusteringHook', memory_size=2000)]
