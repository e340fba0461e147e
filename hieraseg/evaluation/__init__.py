from .metrics import *  # noqa: F401,F403
from .segment_quality import (best_match_iou, kmeans, mean_best_match_iou,  # noqa: F401
                              patch_segments)
