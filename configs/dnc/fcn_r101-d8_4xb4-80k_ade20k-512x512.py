# Parametric baseline of
# dnc-fcn_r101-d8_4xb4-80k_ade20k-512x512.py:
# mmseg's own config, unchanged.
# Reported mIoU: mmseg 39.61.
_base_ = ['mmseg::fcn/fcn_r101-d8_4xb4-80k_ade20k-512x512.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
