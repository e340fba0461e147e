from .metrics import *  # noqa: F401,F403
from .calibration import (calibration_counts, classwise_expected_calibration_error,  # noqa: F401
                          expected_calibration_error)
from .segment_quality import (best_match_iou, kmeans, mean_best_match_iou,  # noqa: F401
                              patch_segments)
