from .dnc_cls_head import DNCClsHead
from .dnc_decode_heads import (DNCASPPHead, DNCFCNHead, DNCSepASPPHead,
                               DNCUPerHead)
from .hiera_heads import HieraFCNHead, HieraHeadMixin, HieraSepASPPHead, HieraUPerHead

__all__ = [
    'HieraHeadMixin', 'HieraSepASPPHead', 'HieraFCNHead', 'HieraUPerHead'
]
__all__ += ['DNCClsHead', 'DNCFCNHead', 'DNCASPPHead', 'DNCSepASPPHead', 'DNCUPerHead']
from .hiera_dnc_heads import (HieraDNCFCNHead, HieraDNCHeadMixin,  # noqa: E402
                              HieraDNCSepASPPHead, HieraDNCUPerHead)

__all__ += ['HieraDNCHeadMixin', 'HieraDNCFCNHead', 'HieraDNCSepASPPHead', 'HieraDNCUPerHead']
