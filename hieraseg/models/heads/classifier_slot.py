"""Where a decode head's classifier is built: :class:`ClassifierSlot`.

The composition of the heads around it is described in :mod:`hieraseg.models.heads`.
"""
import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

__all__ = ['ClassifierSlot']


class ClassifierSlot(BaseDecodeHead):
    """Builds a head's classifier with :meth:`build_classifier`, in place of mmseg's.

    mmseg 1.2.2's ``BaseDecodeHead.__init__`` ends by building a default classifier,
    ``self.conv_seg = nn.Conv2d(channels, out_channels, 1)``, for every head; there is no
    argument that turns it off. ``FCNHead``, ``ASPPHead``, ``DepthwiseSeparableASPPHead``
    and ``UPerHead`` call it first and then build their own layers. This class is listed
    after the mmseg head (``class HieraFCNHead(HieraHeadMixin, FCNHead, ClassifierSlot)``),
    which puts it between the mmseg head and ``BaseDecodeHead`` in the method resolution
    order, so its ``__init__`` runs exactly where ``BaseDecodeHead.__init__`` would:

    1. ``BaseDecodeHead.__init__`` runs inside ``torch.random.fork_rng``: mmseg's default
       ``conv_seg`` draws its random initial weights from a copy of the CPU generator, so
       the global random stream continues as if it had never been built;
    2. that default ``conv_seg`` is dropped at once. It is the one module built and not
       kept, and mmseg builds it: avoiding it would mean copying mmseg's constructor;
    3. :meth:`build_classifier` builds the head's own classifier, once, where mmseg builds
       ``conv_seg`` in the random stream; the mmseg head then builds its layers.

    Because step 3 runs inside the mixins' ``super().__init__()`` call, a mixin stores the
    plain settings that its :meth:`build_classifier` reads (a hierarchy, K, widths) before
    it calls ``super().__init__()``, and builds everything else after it.
    """

    def __init__(self, *args, **kwargs):
        with torch.random.fork_rng(devices=[]):
            super().__init__(*args, **kwargs)
        delattr(self, 'conv_seg')  # mmseg's default classifier (step 2)
        self.build_classifier()

    def build_classifier(self) -> None:
        """Builds and registers the head's classifier modules (step 3). ``channels``,
        ``num_classes``, ``conv_cfg``, ``norm_cfg`` and ``act_cfg`` are set already."""
        raise NotImplementedError(f'{type(self).__name__} must define build_classifier()')
