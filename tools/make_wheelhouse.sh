#!/usr/bin/env bash
# Fills DIR with everything tools/install_offline.sh needs to install the stack without
# network beside an existing torch (+ torchvision): wheels of mmengine, mmsegmentation,
# mmpretrain and their dependencies, of the packages hieraseg imports and its tests need,
# setuptools<81, wheel and ninja (mmcv's build), mmcv 2.1.0's source distribution and
# hieraseg's own wheel; never torch, torchvision or the nvidia-* packages. Pins: the
# files under requirements/ (as tools/setup_env.sh installs them).
#
#   bash tools/make_wheelhouse.sh DIR [--python 3.X] [--platform TAG] [--mmcv-wheel FILE]
#
#   --python 3.X     the target's Python (default: this python3's); when it differs, only
#                    binary wheels for that version and --platform are fetched
#   --platform TAG   with --python: the wheels' platform (default manylinux2014_x86_64,
#                    which pip also matches with older manylinux wheels)
#   --mmcv-wheel F   also put a prebuilt mmcv 2.1.0 wheel in DIR (built against the
#                    target's torch version); install_offline.sh then installs it instead
#                    of building mmcv (36 minutes on 2 cores)
#
#   HIERASEG_PYTHON  the python running pip (default: python3)
# Writes DIR/wheelhouse.json (Python version, platform, required packages) and prints the
# folder's size.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "make_wheelhouse.sh: $*" >&2; exit 2; }
log() { echo "[make_wheelhouse] $*" >&2; }

dir="" target="" platform="manylinux2014_x86_64" mmcv_wheel=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --python) [[ $# -ge 2 ]] || die "--python needs a version, e.g. --python 3.10"
                  target="$2"; shift 2 ;;
        --platform) [[ $# -ge 2 ]] || die "--platform needs a tag"; platform="$2"; shift 2 ;;
        --mmcv-wheel) [[ $# -ge 2 ]] || die "--mmcv-wheel needs a file"; mmcv_wheel="$2"
                      shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "${BASH_SOURCE[0]}"
                   exit 0 ;;
        -*) die "unknown option $1" ;;
        *) [[ -z "${dir}" ]] || die "one DIR only (got '${dir}' and '$1')"; dir="$1"; shift ;;
    esac
done
[[ -n "${dir}" ]] || die "usage: make_wheelhouse.sh DIR [--python 3.X] [--platform TAG] [--mmcv-wheel FILE]"
py="${HIERASEG_PYTHON:-python3}"
own="$("${py}" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
    || die "cannot run ${py}"
target="${target:-${own}}"
[[ "${target}" =~ ^3\.[0-9]+$ ]] || die "--python must look like 3.X, got '${target}'"
if [[ -n "${mmcv_wheel}" ]]; then
    [[ -f "${mmcv_wheel}" ]] || die "--mmcv-wheel ${mmcv_wheel}: no such file"
    tag="cp${target/./}"
    [[ "$(basename "${mmcv_wheel}")" == mmcv-2.1.0-${tag}-* ]] \
        || die "--mmcv-wheel $(basename "${mmcv_wheel}") is not an mmcv 2.1.0 wheel for Python ${target} (${tag})"
fi

# What the target installs (mmcv apart): the pins of requirements/*.txt, as setup_env.sh.
reqs=()
while IFS= read -r line; do
    line="${line%%#*}"; line="${line// /}"
    [[ -z "${line}" || "${line}" == mmcv* ]] || reqs+=("${line}")
done < <(cat "${repo}/requirements/mminstall.txt" "${repo}/requirements/runtime.txt" \
             "${repo}/requirements/tests.txt")
reqs+=('setuptools<81' wheel ninja)

mkdir -p "${dir}"
pip=("${py}" -m pip)
opts=(--disable-pip-version-check --progress-bar off)
cross=()
if [[ "${target}" != "${own}" ]]; then
    log "wheels for Python ${target} on ${platform} (this python is ${own}): binary only"
    cross=(--python-version "${target}" --implementation cp --platform "${platform}"
           --only-binary=:all:)
fi
# torch comes from the target; a dependency that pulls it in would be a mistake here.
log "downloading ${#reqs[@]} pinned requirements and their dependencies"
"${pip[@]}" download "${opts[@]}" -d "${dir}" "${cross[@]}" "${reqs[@]}" >&2
log "downloading mmcv 2.1.0's source distribution"
"${pip[@]}" download "${opts[@]}" -d "${dir}" --no-deps --no-binary mmcv 'mmcv==2.1.0' >&2
log "building hieraseg's wheel"
"${pip[@]}" wheel "${opts[@]}" -w "${dir}" --no-deps --no-build-isolation "${repo}" >&2
[[ -z "${mmcv_wheel}" ]] || cp "${mmcv_wheel}" "${dir}/"

# Anything of torch's own in the folder means a dependency pulled it in: refuse.
if ls "${dir}" | grep -Eiq '^(torch|torchvision|nvidia_|triton)[-_]'; then
    die "torch (or one of its CUDA packages) ended up in ${dir}: $(ls "${dir}" | grep -Ei '^(torch|torchvision|nvidia_|triton)[-_]' | head -3 | tr '\n' ' ')"
fi

[[ ${#cross[@]} -gt 0 ]] || platform="this machine's ($(uname -m))"
"${py}" - "${dir}" "${target}" "${platform}" "${reqs[@]}" <<'PY'
import json, os, re, sys, time
folder, target, platform, *reqs = sys.argv[1:]
names = sorted({re.split(r'[<>=!~;\[ ]', r, maxsplit=1)[0].lower().replace('_', '-')
                for r in reqs} | {'mmcv', 'hieraseg'})
manifest = dict(python=target, platform=platform, required=names, requirements=reqs,
                created=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                files=sorted(f for f in os.listdir(folder) if f != 'wheelhouse.json'))
with open(os.path.join(folder, 'wheelhouse.json'), 'w') as f:
    json.dump(manifest, f, indent=1)
PY
log "$(ls "${dir}" | wc -l) files, $(du -sh "${dir}" | cut -f1) in ${dir} (Python ${target})"
echo "${dir}"
