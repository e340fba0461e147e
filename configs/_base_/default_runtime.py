# mmseg's runtime (default scope 'mmseg', nccl, SegTTAModel) with the hieraseg plugins and a
# visualizer that draws every hierarchy level. tools/train.py and tools/test.py switch to
# gloo and BN where there is no CUDA.
_base_ = ['mmseg::_base_/default_runtime.py', './hieraseg.py']
visualizer = dict(type='HieraSegLocalVisualizer')
