from .hiera_heads import (HieraFCNHead, HieraHeadMixin, HieraSepASPPHead, HieraUPerHead,
                          leaf_path_scores)

__all__ = [
    'HieraHeadMixin', 'HieraSepASPPHead', 'HieraFCNHead', 'HieraUPerHead', 'leaf_path_scores'
]
