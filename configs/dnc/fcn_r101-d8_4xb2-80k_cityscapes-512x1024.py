# Parametric baseline of
# dnc-fcn_r101-d8_4xb2-80k_cityscapes-512x1024.py:
# mmseg's own config, unchanged.
# Reported mIoU: mmseg 75.13 (paper 75.6).
_base_ = ['mmseg::fcn/fcn_r101-d8_4xb2-80k_cityscapes-512x1024.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
