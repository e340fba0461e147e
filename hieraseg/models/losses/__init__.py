from .hiera_ce_loss import HieraCrossEntropyLoss
from .node_sigmoid_loss import NodeSigmoidLoss
from .tree_min_loss import TreeMinLoss
from .tree_triplet_loss import TreeTripletLoss

__all__ = ['HieraCrossEntropyLoss', 'NodeSigmoidLoss', 'TreeMinLoss', 'TreeTripletLoss']
