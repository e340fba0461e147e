# Toy ablation row 'recipe' (experiments/run_toy_ablation.py): recipe: 5 FTM+TT+CE.
_base_ = ['../../configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'recipe: 5 FTM+TT+CE'
