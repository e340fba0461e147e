# Parametric baseline of dnc_resnet50_8xb16_cifar100.py: mmpretrain's own config, unchanged.
_base_ = ['mmpretrain::resnet/resnet50_8xb16_cifar100.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
