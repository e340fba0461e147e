#!/usr/bin/env bash
# Trains the toy CAST and the ViT of its size once per seed, evaluates both
# (experiments/cast_toy_eval.py) and prints mean ± std over the seeds (experiments/cast_toy_summary.py).
#
#   bash experiments/cast_toy_compare.sh [WORK_ROOT] [SEED ...]      (defaults: work_dirs/cast_toy, 0 1 2)
#
# Needs the data set: python tools/make_toy_objects.py data/toy_objects
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="${1:-work_dirs/cast_toy}"
shift || true
seeds=("$@")
[[ ${#seeds[@]} -gt 0 ]] || seeds=(0 1 2)
python="${PYTHON:-python}"
cast=configs/cast/cast-tiny_1xb32-30e_toy-objects-64x64.py
vit=configs/cast/vit-tiny-p8_1xb32-30e_toy-objects-64x64.py
cd "${repo}"
mkdir -p "${root}"
runs=()
for seed in "${seeds[@]}"; do
    for config in "${cast}" "${vit}"; do
        name="$(basename "${config}" .py)"
        if [[ ! -f "${root}/${name}_seed${seed}/epoch_30.pth" ]]; then
            "${python}" tools/train.py "${config}" --work-dir "${root}/${name}_seed${seed}" \
                --cfg-options randomness.seed="${seed}" > "${root}/${name}_seed${seed}.log" 2>&1
        fi
    done
    "${python}" experiments/cast_toy_eval.py \
        "${cast}" "${root}/$(basename "${cast}" .py)_seed${seed}/epoch_30.pth" \
        "${vit}" "${root}/$(basename "${vit}" .py)_seed${seed}/epoch_30.pth" \
        --seed "${seed}" --json "${root}/eval_seed${seed}.json"
    runs+=("${root}/eval_seed${seed}.json")
done
"${python}" experiments/cast_toy_summary.py "${runs[@]}"
