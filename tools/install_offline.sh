#!/usr/bin/env bash
# Installs the stack and hieraseg from a folder made by tools/make_wheelhouse.sh, with no
# network (pip --no-index), into a python that already has torch and torchvision (e.g. a
# cluster's CUDA torch image or module). mmcv 2.1.0 is built with its ops against that torch
# (MAX_JOBS=$(nproc); CUDA ops with HIERASEG_MMCV_CUDA=1 where nvcc is found, CPU ops
# otherwise: the models here need none of mmcv's CUDA ops) unless the folder holds a
# prebuilt mmcv 2.1.0 wheel for this Python (make_wheelhouse.sh --mmcv-wheel), which is then
# installed as it is. Ends by importing mmcv.ops, mmseg, mmpretrain and hieraseg.
#
#   bash tools/install_offline.sh DIR
#
#   HIERASEG_PYTHON     the target python (default: python3 on PATH)
#   HIERASEG_MMCV_CUDA  1: build mmcv's CUDA ops (needs nvcc and a CUDA torch)
#
# Everything is checked before anything is installed: the folder's Python version, every
# required package's file, torch and torchvision in the target, nvcc for HIERASEG_MMCV_CUDA=1.
set -euo pipefail
die() { echo "install_offline.sh: $*" >&2; exit 2; }
log() { echo "[install_offline] $*" >&2; }

[[ $# -eq 1 && "$1" != -* ]] || die "usage: install_offline.sh DIR (a folder made by tools/make_wheelhouse.sh)"
dir="$(cd "$1" 2>/dev/null && pwd)" || die "no such folder: $1"
manifest="${dir}/wheelhouse.json"
[[ -f "${manifest}" ]] || die "${dir} has no wheelhouse.json: make it with tools/make_wheelhouse.sh"
py="${HIERASEG_PYTHON:-python3}"
command -v "${py}" > /dev/null || die "no python '${py}' (set HIERASEG_PYTHON)"
cuda="${HIERASEG_MMCV_CUDA:-0}"
[[ "${cuda}" == 0 || "${cuda}" == 1 ]] || die "HIERASEG_MMCV_CUDA must be 0 or 1, got '${cuda}'"

# --- checks, before installing anything -------------------------------------------------
"${py}" - "${dir}" "${cuda}" <<'PY' || exit 2
import json, os, re, sys
folder, cuda = sys.argv[1], sys.argv[2] == '1'
def fail(message):
    print(f'install_offline.sh: {message}', file=sys.stderr)
    sys.exit(2)
manifest = json.load(open(os.path.join(folder, 'wheelhouse.json')))
here = '%d.%d' % sys.version_info[:2]
if manifest['python'] != here:
    fail(f"{folder} was made for Python {manifest['python']}, the target python "
         f"({sys.executable}) is {here}: make one with tools/make_wheelhouse.sh DIR "
         f"--python {here}")
files = os.listdir(folder)
def canonical(name):
    return re.sub(r'[-_.]+', '-', name).lower()
present = {canonical(re.split(r'-\d', f, maxsplit=1)[0]) for f in files
           if f.endswith(('.whl', '.tar.gz', '.zip'))}
missing = [name for name in manifest['required'] if canonical(name) not in present]
if missing:
    fail(f"{folder} lacks {', '.join(missing)} (no wheel or source file): make the folder "
         f"again with tools/make_wheelhouse.sh")
if not any(f.startswith('mmcv-2.1.0') for f in files):
    fail(f'{folder} lacks mmcv 2.1.0 (its source distribution or a prebuilt wheel)')
try:
    import torch
except ImportError:
    fail(f'the target python ({sys.executable}) has no torch: this installs beside an '
         f'existing torch; install or load torch first (or set HIERASEG_PYTHON)')
try:
    import torchvision  # noqa: F401  (mmpretrain imports it)
except Exception as error:
    fail(f'torchvision does not import in {sys.executable} ({error}); install the '
         f'torchvision build that matches torch {torch.__version__}')
if cuda and torch.version.cuda is None:
    fail(f'HIERASEG_MMCV_CUDA=1 but torch {torch.__version__} is a CPU build')
PY
if [[ "${cuda}" == 1 ]]; then
    nvcc="$(command -v nvcc || true)"
    [[ -n "${nvcc}" || -z "${CUDA_HOME:-}" || ! -x "${CUDA_HOME}/bin/nvcc" ]] \
        || nvcc="${CUDA_HOME}/bin/nvcc"
    [[ -n "${nvcc}" ]] || die "HIERASEG_MMCV_CUDA=1 but no nvcc on PATH or in \$CUDA_HOME/bin: load the CUDA toolkit, or build CPU ops (HIERASEG_MMCV_CUDA=0; the models here need no mmcv CUDA op)"
fi

pip=("${py}" -m pip install --disable-pip-version-check --progress-bar off --no-index
     --find-links "${dir}")
tag="$("${py}" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')"

# --- install ----------------------------------------------------------------------------
log "build tools: setuptools<81, wheel, ninja"
"${pip[@]}" 'setuptools<81' wheel ninja >&2
mmcv_wheel="$(ls "${dir}"/mmcv-2.1.0-"${tag}"-*.whl 2>/dev/null | head -n1 || true)"
if [[ -z "${mmcv_wheel}" ]]; then
    sdist="$(ls "${dir}"/mmcv-2.1.0.tar.gz 2>/dev/null | head -n1 || true)"
    [[ -n "${sdist}" ]] || die "${dir} has neither mmcv-2.1.0.tar.gz nor an mmcv 2.1.0 wheel for ${tag}"
    build="$(mktemp -d)"
    log "building mmcv 2.1.0 with its $([[ ${cuda} == 1 ]] && echo CUDA || echo CPU) ops against the target's torch, MAX_JOBS=$(nproc) (about 36 minutes on 2 cores)"
    MMCV_WITH_OPS=1 FORCE_CUDA="${cuda}" MAX_JOBS="$(nproc)" \
        "${py}" -m pip wheel --disable-pip-version-check --progress-bar off --no-index \
        --no-deps --no-build-isolation -w "${build}" "${sdist}" >&2
    mmcv_wheel="$(ls "${build}"/mmcv-2.1.0-*.whl | head -n1)"
    [[ ${cuda} == 1 ]] || log "(a CPU-ops build; HIERASEG_MMCV_CUDA=1 builds the CUDA ops)"
else
    log "using the prebuilt $(basename "${mmcv_wheel}") (built against the same torch version?"\
        "the import check below tells)"
fi
"${pip[@]}" --no-deps "${mmcv_wheel}" >&2
log "the OpenMMLab stack and hieraseg's dependencies"
requirements=()
while IFS= read -r name; do requirements+=("${name}"); done < <("${py}" -c '
import json, sys
for r in json.load(open(sys.argv[1]))["requirements"]:
    if not r.lower().startswith("mmcv"):
        print(r)' "${manifest}")
"${pip[@]}" "${requirements[@]}" >&2
hieraseg_wheel="$(ls "${dir}"/hieraseg-*.whl | head -n1)"
"${pip[@]}" --no-deps "${hieraseg_wheel}" >&2

log "checking the imports (from an empty folder, so that a checkout does not stand in)"
cd "$(mktemp -d)"
"${py}" -c '
import torch, mmcv, mmcv.ops, mmengine, mmseg, mmpretrain, hieraseg
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}), mmcv {mmcv.__version__}, "
      f"mmengine {mmengine.__version__}, mmseg {mmseg.__version__}, "
      f"mmpretrain {mmpretrain.__version__}, hieraseg {hieraseg.__version__} "
      f"({hieraseg.__file__})")'
