# mmseg's runtime (default scope 'mmseg', SegLocalVisualizer, SegTTAModel, nccl) plus the
# hieraseg plugins. tools/train.py and tools/test.py switch to gloo and BN without CUDA.
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['hieraseg'], allow_failed_imports=False)
