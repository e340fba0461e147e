# Parametric baseline of dnc_resnet101_8xb32_in1k.py: mmpretrain's own config, unchanged.
_base_ = ['mmpretrain::resnet/resnet101_8xb32_in1k.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
