#!/usr/bin/env bash
# The toy demo (as tools/demo.sh runs it, without the set-up) into a given folder; a part of
# tools/gpu_check.sh. Runs on CUDA where torch sees it, else on the CPU.
#   bash tools/gpu_check_demo.sh PYTHON OUT_DIR ITERS [make_toy_data.py options...]
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: $0 PYTHON OUT_DIR ITERS [make_toy_data options]" >&2; exit 2; }
py="$1" out="$2" iters="$3"
shift 3
cd "$(dirname "$0")/.."
config=configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py
toy="${out}/toy_shapes" work="${out}/demo_work"
"${py}" tools/make_toy_data.py "${toy}" "$@"
"${py}" tools/train.py "${config}" --work-dir "${work}" --data-root "${toy}" \
    --max-iters "${iters}" --cfg-options train_cfg.val_interval="${iters}" \
    default_hooks.checkpoint.interval="${iters}"
"${py}" tools/test.py "${config}" "$(cat "${work}/last_checkpoint")" --work-dir "${work}" \
    --data-root "${toy}"
