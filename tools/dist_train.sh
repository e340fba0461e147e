#!/usr/bin/env bash
# Train on GPUS processes of this machine (or NNODES machines): torchrun + tools/train.py.
#   tools/dist_train.sh CONFIG GPUS [train.py options]
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500), PYTHON.
# Without CUDA the processes run on the CPU with gloo.
set -e
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH} \
exec "${PYTHON}" -m torch.distributed.run \
    --nnodes="${NNODES}" \
    --node_rank="${NODE_RANK}" \
    --master_addr="${MASTER_ADDR}" \
    --nproc_per_node="${GPUS}" \
    --master_port="${PORT}" \
    "$(dirname "$0")/train.py" "${CONFIG}" --launcher pytorch "${@:3}"
