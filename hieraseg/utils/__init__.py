from .config_checks import check_data_roots, check_hierarchy_fits_data
from .runtime import (adapt_cfg_to_device, finish_distributed, init_cpu_distributed,
                      prepare_runtime)

__all__ = [
    'adapt_cfg_to_device', 'check_data_roots', 'check_hierarchy_fits_data',
    'finish_distributed', 'init_cpu_distributed', 'prepare_runtime'
]
