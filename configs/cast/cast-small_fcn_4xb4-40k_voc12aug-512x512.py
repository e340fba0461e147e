# CAST-S + FCN head fine-tuned on PASCAL VOC 2012 (+ SBD), 512x512 crops, 4 GPUs x 4 images,
# AdamW 6e-5, 40k iterations; superpixels at one per 256 pixels. The backbone starts from
# the ImageNet-1K CAST-S of cast-small_8xb128-300e_in1k.py (model.backbone.init_cfg).
# Paper (its own fine-tuning protocol, not this one): 67.6 mIoU (ViT-S 65.8).
# Baseline beside it: vit-small_fcn_4xb4-40k_voc12aug-512x512.py.
_base_ = [
    '../_base_/models/cast-s_fcn.py', '../_base_/datasets/voc12aug_cast_512x512.py',
    'mmseg::_base_/default_runtime.py', '../_base_/schedules/schedule_adamw_vit_40k.py',
    '../_base_/hieraseg.py'
]
train_dataloader = dict(batch_size=4)
