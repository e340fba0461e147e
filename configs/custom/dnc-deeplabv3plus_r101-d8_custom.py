# DNC on YOUR data with DeepLabV3+ R101-D8 (configs/custom/custom_data.py: data, hierarchy,
# schedule): the flat DeepLabV3+ template's classifier replaced by a projection and K=10
# cosine sub-centroids per leaf class (the paper's segmentation setting), moved by the
# SinkhornClusteringHook, as configs/dnc/dnc-deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py.
# Nothing to edit here.
_base_ = ['./deeplabv3plus_r101-d8_custom.py']
model = dict(decode_head=dict(type='DNCSepASPPHead', num_sub_centroids=10,
                              logit_norm='layernorm'))
# Up to 2000 pixel embeddings per class, gathered from all GPUs, clustered every iteration;
# momentum 0.999, epsilon 0.05, 3 Sinkhorn iterations: the hook's defaults
custom_hooks = [dict(type='SinkhornClusteringHook', memory_size=2000)]
