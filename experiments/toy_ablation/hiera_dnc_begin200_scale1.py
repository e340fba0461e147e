# Toy ablation row 'hiera_dnc_begin200_scale1' (experiments/run_toy_ablation.py): hierarchical DNC
# (recipe), from iteration 200, logit scales >= 1.
_base_ = ['../../configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'hierarchical DNC (recipe), from iteration 200, logit scales >= 1'
model = dict(decode_head=dict(
    classify_upsampled=False,
    upsample_factor=None,
    loss_decode={{_base_.hssn_loss_decode}},
    min_logit_scale=1.0))
param_scheduler = {{_base_.poly}}
custom_hooks = [dict(type='SinkhornClusteringHook', momentum=0.99, memory_size=500, begin=200)]
