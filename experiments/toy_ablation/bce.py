# Toy ablation row 'bce' (experiments/run_toy_ablation.py): BCE.
_base_ = ['../../configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'BCE'
model = dict(decode_head=dict(
    loss_decode=[dict(type='NodeSigmoidLoss', reduction_mode='node_sum')],
    loss_triplet=None))
