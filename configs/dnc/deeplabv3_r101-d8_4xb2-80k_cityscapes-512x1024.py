# Parametric baseline of
# dnc-deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py:
# mmseg's own config, unchanged.
# Reported mIoU: mmseg 80.20 (paper 78.1).
_base_ = ['mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
