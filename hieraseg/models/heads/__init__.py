"""hieraseg's decode heads, and how each one is composed.

Every segmentation head here is an mmseg decode head (``FCNHead``, ``ASPPHead``,
``DepthwiseSeparableASPPHead``, ``UPerHead``) with a different classifier, declared as::

    class HieraDNCFCNHead(HieraDNCHeadMixin, FCNHead, ClassifierSlot)
    #                     ^ mixin(s)          ^ mmseg   ^ builds the classifier

The mixins come first and change what the head computes; the mmseg head is unchanged;
:class:`ClassifierSlot` comes last, which places it between the mmseg head and mmseg's
``BaseDecodeHead`` in the method resolution order.

What ``build_classifier`` builds:

- HSSN, ``Hiera{FCN,SepASPP,UPer}Head`` (mixin :class:`HieraHeadMixin`): ``conv_seg``, a
  1x1 conv with one output per node of the hierarchy (V).
- DNC, ``DNC{FCN,ASPP,SepASPP,UPer}Head`` (mixin :class:`DNCDecodeHeadMixin`):
  ``projection`` (1x1 ConvModule, 1x1 conv to D channels) and ``classifier``, a
  :class:`SubCentroidClassifier` over the C classes.
- Hierarchical DNC, ``HieraDNC{FCN,SepASPP,UPer}Head`` (mixin :class:`HieraDNCHeadMixin`,
  which is DNCDecodeHeadMixin over HieraHeadMixin): ``projection`` and ``classifier``, a
  :class:`HieraSubCentroidClassifier` over the V nodes.

(:class:`DNCClsHead` is an mmpretrain classification head; it has no ``conv_seg`` and
builds its :class:`SubCentroidClassifier` in its own ``__init__``.)

Construction, in order, for ``HieraDNCFCNHead(**cfg)``:

1. Each mixin's ``__init__`` checks its own arguments and stores the plain settings its
   classifier needs (HieraDNCHeadMixin: ``min_logit_scale``; DNCDecodeHeadMixin: K, D and
   the normalisations; HieraHeadMixin: the hierarchy and ``path_score``), then calls
   ``super().__init__`` with the rest.
2. ``FCNHead.__init__`` calls ``super().__init__``, which is ``ClassifierSlot.__init__``:
   it runs mmseg's ``BaseDecodeHead.__init__`` (inputs, channels, norms, the losses) with
   the random generator forked, drops the default ``conv_seg`` that mmseg builds there, and
   calls ``self.build_classifier()``, the one hook that builds the classifier. The last
   override in the MRO is the one that runs (here HieraDNCHeadMixin's), once.
3. ``FCNHead.__init__`` builds its convolutions, as in mmseg.
4. Back in the mixins, innermost first, each builds the rest of what it owns:
   HieraHeadMixin the embedding branch and the tree-triplet loss; DNCDecodeHeadMixin its
   loss weights and the ``classify_upsampled`` settings.

So every module hieraseg adds is built once, and no module that the head drops draws from
the random generator (the dropped ``conv_seg`` draws from a copy of it). The mmseg head's
own layers are as in mmseg (``DepthwiseSeparableASPPHead`` replaces the ``ASPPModule``
that ``ASPPHead.__init__`` built, in plain mmseg too).

At run time, mmseg's ``BaseDecodeHead.loss`` and ``predict`` are the paths (forward, then
``loss_by_feat`` / ``predict_by_feat``); each mixin overrides a step and calls ``super()``:
DNCDecodeHeadMixin sets the classification size around ``loss`` and ``predict`` and keeps
the features for the clustering hook in ``loss_by_feat``; HieraHeadMixin adds the
tree-triplet loss after mmseg's ``loss`` (``loss_by_embeddings``), computes the node losses
in ``loss_by_feat`` and decodes the root-to-leaf paths in ``predict_by_feat``; its
``predict_node_logits`` (the node logits that ``HieraEncoderDecoder`` carries to the output
size) is the one extra entry point, and HieraDNCHeadMixin sets the classification size
around it.

Checkpoints: the module names (``conv_seg``, ``projection``, ``classifier``, ``embedding``)
are those of earlier versions, so their checkpoints load unchanged.
"""
from .classifier_slot import ClassifierSlot
from .dnc_cls_head import DNCClsHead
from .dnc_decode_heads import (DNCASPPHead, DNCDecodeHeadMixin, DNCFCNHead, DNCSepASPPHead,
                               DNCUPerHead)
from .hiera_dnc_heads import (HieraDNCFCNHead, HieraDNCHeadMixin, HieraDNCSepASPPHead,
                              HieraDNCUPerHead)
from .hiera_heads import HieraFCNHead, HieraHeadMixin, HieraSepASPPHead, HieraUPerHead

__all__ = [
    'ClassifierSlot', 'HieraHeadMixin', 'HieraSepASPPHead', 'HieraFCNHead', 'HieraUPerHead',
    'DNCClsHead', 'DNCDecodeHeadMixin', 'DNCFCNHead', 'DNCASPPHead', 'DNCSepASPPHead',
    'DNCUPerHead', 'HieraDNCHeadMixin', 'HieraDNCFCNHead', 'HieraDNCSepASPPHead',
    'HieraDNCUPerHead'
]
