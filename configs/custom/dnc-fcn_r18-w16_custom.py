# DNC on YOUR data (configs/custom/custom_data.py: data, hierarchy, schedule): the flat
# template's FCN with its parametric classifier replaced by a projection to 64-d embeddings
# and K=4 cosine sub-centroids per leaf class, moved by the SinkhornClusteringHook every
# iteration. As the toy config configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py.
# Nothing to edit here.
_base_ = ['./fcn_r18-w16_custom.py']
model = dict(
    decode_head=dict(
        type='DNCFCNHead', num_sub_centroids=4, embed_channels=64, logit_norm='layernorm'))
# momentum 0.99 (not the paper's 0.999) for runs of thousands, not hundreds of thousands,
# of iterations; interval 1, epsilon 0.05, 3 Sinkhorn iterations: the hook's defaults
custom_hooks = [dict(type='SinkhornClusteringHook', momentum=0.99, memory_size=500)]
