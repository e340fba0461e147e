# Hierarchical DNC on YOUR data with DeepLabV3+ R101-D8 (configs/custom/custom_data.py: data,
# hierarchy, schedule): the HSSN DeepLabV3+ template with K=10 cosine sub-centroids for every
# node, as configs/hssn/hiera-dnc-deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py
# (hiera_dnc_sep_aspp_head in configs/_base_/hssn_recipe.py: the focal tree-min at weight 1,
# the 1/4-resolution embeddings classified upsampled x2), and a linear warm-up over the first
# 10 % of max_iters (custom_data.py's warmup_param_scheduler). Nothing to edit here.
_base_ = ['./hssn-deeplabv3plus_r101-d8_custom.py']
model = dict(decode_head={{_base_.hiera_dnc_sep_aspp_head}})
custom_hooks = {{_base_.hiera_dnc_sep_aspp_clustering}}
param_scheduler = {{_base_.warmup_param_scheduler}}
