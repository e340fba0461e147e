# Parametric baseline of
# dnc-deeplabv3_r101-d8_4xb4-80k_ade20k-512x512.py:
# mmseg's own config, unchanged.
# Reported mIoU: mmseg 44.08 (paper 44.1).
_base_ = ['mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-80k_ade20k-512x512.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
