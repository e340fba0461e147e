# Parametric baseline of
# dnc-upernet_swin-b-p4-w7-in1k-pre_8xb2-160k_ade20k-512x512.py:
# mmseg's own config, unchanged.
# Reported mIoU: mmseg 47.99 (paper 48.0).
_base_ = ['mmseg::swin/swin-base-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
