# Toy ablation row 'cce' (experiments/run_toy_ablation.py): CCE (flat softmax).
_base_ = ['../../configs/hssn/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'CCE (flat softmax)'
