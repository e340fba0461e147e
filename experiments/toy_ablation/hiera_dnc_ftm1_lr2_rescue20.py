# Toy ablation row 'hiera_dnc_ftm1_lr2_rescue20' (experiments/run_toy_ablation.py): hierarchical
# DNC, 1 FTM + CE + TT, lr x2, rescue after 20 steps.
_base_ = ['../../configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'hierarchical DNC, 1 FTM + CE + TT, lr x2, rescue after 20 steps'
model = dict(decode_head=dict(
    classify_upsampled=False,
    upsample_factor=None))
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = {{_base_.poly}}
custom_hooks = [
    dict(type='SinkhornClusteringHook', momentum=0.99, memory_size=500, rescue_after=20)]
