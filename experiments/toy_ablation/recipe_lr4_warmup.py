# Toy ablation row 'recipe_lr4_warmup' (experiments/run_toy_ablation.py): recipe, lr x4, warm-up.
_base_ = ['../../configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'recipe, lr x4, warm-up'
optim_wrapper = dict(optimizer=dict(lr=0.2))
param_scheduler = {{_base_.warmup_poly}}
