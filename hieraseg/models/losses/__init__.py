from .tree_min_loss import TreeMinLoss
from .tree_triplet_loss import TreeTripletLoss

__all__ = ['TreeMinLoss', 'TreeTripletLoss']
