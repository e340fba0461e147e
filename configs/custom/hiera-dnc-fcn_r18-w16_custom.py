# Hierarchical DNC on YOUR data (configs/custom/custom_data.py: data, hierarchy, schedule):
# the HSSN template with its node classifier replaced by a projection to 64-d embeddings and
# K=4 cosine sub-centroids for EVERY node of the hierarchy, moved by the
# SinkhornClusteringHook (coarse nodes over their descendant leaves' features). As the toy
# config configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py: the focal tree-min
# at weight 1 (hiera_dnc_loss_decode), the 1/8-resolution embeddings classified upsampled x4,
# and a linear warm-up over the first 10 % of max_iters (custom_data.py's
# warmup_param_scheduler; the toy config's 200 of 2000). Nothing to edit here.
_base_ = ['./hssn-fcn_r18-w16_custom.py']
model = dict(
    decode_head=dict(
        type='HieraDNCFCNHead', num_sub_centroids=4, embed_channels=64,
        logit_norm='layernorm', classify_upsampled=True, upsample_factor=4,
        loss_decode={{_base_.hiera_dnc_loss_decode}}))
custom_hooks = [dict(type='SinkhornClusteringHook', momentum=0.99, memory_size=500)]
param_scheduler = {{_base_.warmup_param_scheduler}}
