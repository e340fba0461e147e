# Toy ablation row 'ftm_tt_ce_prior' (experiments/run_toy_ablation.py): FTM+TT+CE, bias prior.
_base_ = ['../../configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py',
          './_base_/parts.py']
ablation_label = 'FTM+TT+CE, bias prior'
model = dict(decode_head=dict(
    loss_decode=[{{_base_.FTM}}, {{_base_.CE}}],
    loss_triplet={{_base_.TT}},
    node_bias_prior=True))
