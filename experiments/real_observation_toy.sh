#!/usr/bin/env bash
# The "real observation" variant of the toy DNC models trained by experiments/run_toy_ablation.py:
# every sub-centroid replaced by its exemplar's feature (tools/dnc_exemplars.py), both
# checkpoints evaluated with tools/test.py on the in-domain validation split (mIoU per
# level). Usage, after `python experiments/run_toy_ablation.py --rows dnc hiera_dnc ...`:
#   bash experiments/real_observation_toy.sh [ROW ...]   (default: dnc hiera_dnc)
# Prints one line per row and seed: ROW SEED BEFORE(level=mIoU ...) AFTER(...).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
WORK=${WORK:-work_dirs/toy_ablation}
DATA=${DATA:-data/toy_shapes_ablation}
ROWS=${*:-dnc hiera_dnc}
opts=(--cfg-options "train_dataloader.dataset.data_root=$DATA"
      "val_dataloader.dataset.data_root=$DATA" "test_dataloader.dataset.data_root=$DATA")
miou() { grep -o 'mIoU per level (finest first): .*' "$1" | tail -1 | cut -d: -f2; }
for row in $ROWS; do
  for dir in "$WORK"/"${row}"_seed*; do
    seed=${dir##*_seed}
    config=$(ls "$dir"/*.py | head -1)  # the config the run trained with
    ckpt=$dir/iter_2000.pth
    real=$dir/real_observation.pth
    $PY tools/dnc_exemplars.py "$config" "$ckpt" --real-observation-checkpoint "$real" \
      --device cpu --no-progress "${opts[@]}" > "$dir/exemplars.log" 2>&1
    $PY tools/test.py "$config" "$ckpt" --work-dir "$dir/test_before" "${opts[@]}" \
      > "$dir/test_before.log" 2>&1
    $PY tools/test.py "$config" "$real" --work-dir "$dir/test_real" "${opts[@]}" \
      > "$dir/test_real.log" 2>&1
    echo "$row seed $seed before:$(miou "$dir/test_before.log") real:$(miou "$dir/test_real.log")"
  done
done
