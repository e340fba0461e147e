from .hierarchical_iou_metric import HierarchicalIoUMetric

__all__ = ['HierarchicalIoUMetric']
