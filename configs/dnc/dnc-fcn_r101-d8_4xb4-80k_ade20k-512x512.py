# DNC-FCN, ResNet-101, ADE20K (the paper reports DeepLabV3 and UPerNet on ADE20K).
# Baseline: fcn_r101-d8_4xb4-80k_ade20k-512x512.py.
# Here its decode head's parametric classifier is replaced by a projection + K=10
# cosine sub-centroids per class, moved by the SinkhornClusteringHook.
_base_ = ['./fcn_r101-d8_4xb4-80k_ade20k-512x512.py']
model = dict(decode_head=dict(type='DNCFCNHead', num_sub_centroids=10, logit_norm='layernorm'))
# Up to 1000 pixel embeddings per class, gathered from all GPUs, clustered every iteration.
# interval 1, momentum 0.999, epsilon 0.05, 3 Sinkhorn iterations: the hook's defaults
custom_hooks = [dict(type='SinkhornClusteringHook', memory_size=1000, memory_dtype='float16')]
