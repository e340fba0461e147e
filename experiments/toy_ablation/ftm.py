# Toy ablation row 'ftm' (experiments/run_toy_ablation.py): FTM.
_base_ = ['../../configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'FTM'
model = dict(decode_head=dict(
    loss_decode=[{{_base_.FTM}}],
    loss_triplet=None))
