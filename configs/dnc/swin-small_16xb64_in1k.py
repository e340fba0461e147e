# Parametric baseline of dnc_swin-small_16xb64_in1k.py: mmpretrain's own config, unchanged.
_base_ = ['mmpretrain::swin_transformer/swin-small_16xb64_in1k.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
