# Toy ablation row 'cce_lr4_warmup' (experiments/run_toy_ablation.py): CCE, lr x4, warm-up
# (control).
_base_ = ['../../configs/hssn/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'CCE, lr x4, warm-up (control)'
optim_wrapper = dict(optimizer=dict(lr=0.2))
param_scheduler = {{_base_.warmup_poly}}
