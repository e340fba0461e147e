# Hierarchical DNC on YOUR data (configs/custom/custom_data.py: data, hierarchy, schedule):
# the HSSN template with its node classifier replaced by a projection to 64-d embeddings and
# K=4 cosine sub-centroids for EVERY node of the hierarchy, moved by the
# SinkhornClusteringHook, as the toy config
# configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py (hiera_dnc_fcn_head in
# configs/_base_/hssn_recipe.py: the focal tree-min at weight 1, the 1/8-resolution
# embeddings classified upsampled x4), and a linear warm-up over the first 10 % of max_iters
# (custom_data.py's warmup_param_scheduler; the toy config's 200 of 2000). Nothing to edit here.
_base_ = ['./hssn-fcn_r18-w16_custom.py']
model = dict(decode_head={{_base_.hiera_dnc_fcn_head}})
custom_hooks = {{_base_.hiera_dnc_fcn_clustering}}
param_scheduler = {{_base_.warmup_param_scheduler}}
