# Toy ablation row 'cce_lr2' (experiments/run_toy_ablation.py): CCE, lr x2 (control).
_base_ = ['../../configs/hssn/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'CCE, lr x2 (control)'
optim_wrapper = dict(optimizer=dict(lr=0.1))
