# The DeiT training schedule (Touvron et al. 2021), as the CAST paper trains CAST-S and ViT-S:
# AdamW, lr 5e-4 x 1024 / 512 for a total batch of 1024, weight decay 0.05 (mmpretrain's
# Swin schedule), no decay on norms, biases, the class token and positions; 5 warm-up epochs,
# then cosine to 1e-5 over 300 epochs.
_base_ = ['mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py']
optim_wrapper = dict(
    optimizer=dict(lr=5e-4 * 1024 / 512),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        flat_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0)
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=5)
]
