# ViT-S/16 (DeiT-S) + the same FCN head on PASCAL VOC 2012 (+ SBD): the baseline of
# cast-small_fcn_4xb4-40k_voc12aug-512x512.py (same data, crops, schedule), patch tokens.
_base_ = [
    '../_base_/models/vit-s_fcn.py', 'mmseg::_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/default_runtime.py', '../_base_/schedules/schedule_adamw_vit_40k.py',
    '../_base_/hieraseg.py'
]
train_dataloader = dict(batch_size=4)
