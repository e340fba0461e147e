#!/usr/bin/env bash
# The prepared CUDA check: run once on a CUDA machine (after tools/install_offline.sh or
# tools/setup_env.sh), it writes OUT_DIR/report.md and OUT_DIR/report.json.
#
#   bash tools/gpu_check.sh [OUT_DIR] [--dry-run]        (default OUT_DIR: work_dirs/gpu_check)
#
# Parts, each under its own `timeout` (seconds; override with GPU_CHECK_T_<PART>):
#   cuda_tests  pytest -m cuda tests/test_cuda (CUDA vs CPU on the same inputs)        100
#   hssn_fp32   benchmarks/benchmark_hssn.py --device cuda --depth 101 --size 512 1024   80
#   hssn_amp    the same with --amp                                                     70
#   dnc         benchmarks/benchmark_dnc.py --device cuda (C=1000, K=4, 2048-d, 256k
#               memory entries; ResNet-50 224x224 batch 64)                             90
#   demo        the toy demo (generate, train 2000 iterations, test) on the GPU          130
#   hiera_dnc   benchmarks/benchmark_hiera_dnc_memory.py --device cuda: peak memory and time
#               of a training step (512x1024, batch 2) and of whole / slide inference
#               (1024x2048) of the real Cityscapes HSSN, hierarchical DNC (x2, full
#               resolution), linear and flat DNC DeepLabV3+ R101 models                  90
# 560 s of parts at most, plus start-up: under 10 minutes. A part that runs out of time is
# killed and reported as 'timeout'; what finished before is kept. Exit status 0 when every
# part passed, 1 otherwise (the report is written either way).
#
# --dry-run: the same script on the CPU with tiny sizes (the cuda tests skip), to check the
# script and its report anywhere; it takes well under a minute of parts.
#
#   HIERASEG_PYTHON   the python to use (default: python3 on PATH)
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="" dry=0
for arg in "$@"; do
    case "${arg}" in
        --dry-run) dry=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "${BASH_SOURCE[0]}"
                   exit 0 ;;
        -*) echo "gpu_check.sh: unknown option ${arg}" >&2; exit 2 ;;
        *) [[ -z "${out}" ]] || { echo "gpu_check.sh: one OUT_DIR only" >&2; exit 2; }
           out="${arg}" ;;
    esac
done
out="${out:-work_dirs/gpu_check}"
py="${HIERASEG_PYTHON:-python3}"
mkdir -p "${out}/parts" || exit 2
out="$(cd "${out}" && pwd)"
cd "${repo}"

if ! "${py}" -c 'import torch' 2>/dev/null; then
    echo "gpu_check.sh: ${py} cannot import torch; install the stack first" >&2; exit 2
fi
if [[ ${dry} == 0 ]] && ! "${py}" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'; then
    echo "gpu_check.sh: torch sees no CUDA device (use --dry-run to rehearse on the CPU)" >&2
    exit 2
fi

timeout_of() {  # PART DEFAULT
    local var="GPU_CHECK_T_${1^^}"
    echo "${!var:-$2}"
}

run_part() {  # NAME DEFAULT_TIMEOUT COMMAND...
    local name="$1" limit dir start rc
    limit="$(timeout_of "$1" "$2")"
    shift 2
    dir="${out}/parts/${name}"
    rm -rf "${dir}" && mkdir -p "${dir}"
    echo "[gpu_check] ${name} (at most ${limit} s): $*" >&2
    printf '%s\n' "$*" > "${dir}/command"
    start=$(date +%s%N)
    timeout --kill-after=10 "${limit}" "$@" > "${dir}/log" 2>&1
    rc=$?
    echo "${rc}" > "${dir}/rc"
    echo "${limit}" > "${dir}/limit"
    echo $(( ($(date +%s%N) - start) / 1000000 )) > "${dir}/milliseconds"
    echo "[gpu_check] ${name}: exit ${rc} after $(cat "${dir}/milliseconds") ms" >&2
}

"${py}" - > "${out}/environment.json" <<'PY'
import json, platform, torch
info = dict(python=platform.python_version(), torch=torch.__version__,
            cuda=torch.version.cuda, cuda_available=torch.cuda.is_available())
if torch.cuda.is_available():
    info['gpu'] = torch.cuda.get_device_name(0)
    info['gpu_memory_gib'] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
try:
    import mmcv, mmengine, mmseg, mmpretrain
    info.update(mmcv=mmcv.__version__, mmengine=mmengine.__version__,
                mmseg=mmseg.__version__, mmpretrain=mmpretrain.__version__)
except Exception as error:  # reported, not fatal: the parts will fail with the details
    info['import_error'] = repr(error)
print(json.dumps(info))
PY

export PYTHONPATH="${repo}${PYTHONPATH:+:${PYTHONPATH}}"
if [[ ${dry} == 1 ]]; then
    device=cpu
    hssn_args=(--depth 18 --size 64 64 --iters 1)
    dnc_args=(--classes 8 --k 4 --dim 32 --per-class 16 --repeats 1 --skip-train
              --skip-footprint)
    toy_args=(--num-train 16 --num-val 4 --size 64) demo_iters=8
    memory_args=(--depth 18 --crop 64 128 --steps 1 --one-process --cases hssn hiera_dnc_x2
                 --modes train whole)
else
    device=cuda
    hssn_args=(--depth 101 --size 512 1024 --iters 10)
    dnc_args=(--classes 1000 --k 4 --dim 2048 --per-class 256 --repeats 3 --batch-size 64
              --image-size 224 --iters 5)
    toy_args=() demo_iters=2000
    memory_args=(--steps 3)
fi

run_part cuda_tests 100 "${py}" -m pytest -m cuda -q -p no:cacheprovider \
    --junitxml="${out}/parts/cuda_tests/junit.xml" tests/test_cuda
run_part hssn_fp32 80 "${py}" benchmarks/benchmark_hssn.py --device "${device}" \
    "${hssn_args[@]}" --json "${out}/parts/hssn_fp32/figures.json"
run_part hssn_amp 70 "${py}" benchmarks/benchmark_hssn.py --device "${device}" --amp \
    "${hssn_args[@]}" --json "${out}/parts/hssn_amp/figures.json"
run_part dnc 90 "${py}" benchmarks/benchmark_dnc.py --device "${device}" \
    "${dnc_args[@]}" --json "${out}/parts/dnc/figures.json"

run_part demo 130 bash tools/gpu_check_demo.sh "${py}" "${out}" "${demo_iters}" \
    "${toy_args[@]}"
run_part hiera_dnc 90 "${py}" benchmarks/benchmark_hiera_dnc_memory.py --device "${device}" \
    "${memory_args[@]}" --json "${out}/parts/hiera_dnc/figures.json"

"${py}" tools/gpu_check_report.py "${out}" $([[ ${dry} == 1 ]] && echo --dry-run)
