#!/usr/bin/env bash
# The main job, from nothing: set up the environment (tools/setup_env.sh), generate the toy
# data set, train the small hierarchical model on the CPU, then evaluate it and print mIoU
# per hierarchy level.
#   bash tools/demo.sh            (CONFIG=..., WORK_DIR=... to change them)
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(bash tools/setup_env.sh | tail -n1)"
CONFIG=${CONFIG:-configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py}
WORK_DIR=${WORK_DIR:-work_dirs/demo}

"${py}" tools/make_toy_data.py data/toy_shapes
"${py}" tools/train.py "${CONFIG}" --work-dir "${WORK_DIR}"
"${py}" tools/test.py "${CONFIG}" "$(cat "${WORK_DIR}/last_checkpoint")" --work-dir "${WORK_DIR}"
