# CAST-S + FCN head on ADE20K (150 classes), 512x512 crops, 4 GPUs x 4 images, AdamW 6e-5,
# 80k iterations; otherwise as cast-small_fcn_4xb4-40k_voc12aug-512x512.py.
# Baseline beside it: vit-small_fcn_4xb4-80k_ade20k-512x512.py.
_base_ = [
    '../_base_/models/cast-s_fcn.py', '../_base_/datasets/ade20k_cast_512x512.py',
    'mmseg::_base_/default_runtime.py', '../_base_/schedules/schedule_adamw_vit_40k.py',
    '../_base_/hieraseg.py'
]
model = dict(decode_head=dict(num_classes=150))
train_dataloader = dict(batch_size=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=80000, by_epoch=False)
]
train_cfg = dict(max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
