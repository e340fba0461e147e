#!/usr/bin/env bash
# Sets up a virtual environment with the pinned OpenMMLab stack and hieraseg (editable).
# Idempotent: a second run with the same requirements only re-links the package (seconds).
#
#   HIERASEG_VENV      where the environment lives   (default: ~/.cache/hieraseg/venv)
#   HIERASEG_WHEELS    where the built mmcv wheel is kept (default: ~/.cache/hieraseg/wheels)
#   HIERASEG_PYTHON    the interpreter to build it from (default: python3)
#
# Prints the venv's python path as its last line.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${HOME}/.cache/hieraseg"
venv="${HIERASEG_VENV:-${cache}/venv}"
wheels="${HIERASEG_WHEELS:-${cache}/wheels}"
python="${HIERASEG_PYTHON:-python3}"
mkdir -p "${wheels}"

log() { echo "[setup_env] $*" >&2; }

stamp_of() {
    cat "${repo}"/requirements/*.txt "${repo}/setup.py" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16
}
stamp="$(stamp_of)"

if [[ ! -x "${venv}/bin/python" ]]; then
    log "creating ${venv}"
    "${python}" -m venv "${venv}"
fi
py="${venv}/bin/python"
pip=("${py}" -m pip install --disable-pip-version-check --progress-bar off)

if [[ "$(cat "${venv}/.hieraseg-stamp" 2>/dev/null)" != "${stamp}" ]]; then
    # torch pulls in the newest setuptools; mmcv's and mmengine's setup need pkg_resources,
    # gone in setuptools 81, so the pin goes into every install command.
    log "installing torch + torchvision (PyPI builds) and build tools"
    "${pip[@]}" -r "${repo}/requirements/torch-cpu.txt" 'setuptools<81' wheel ninja >&2

    mmcv_wheel="$(ls "${wheels}"/mmcv-2.1.0-*.whl 2>/dev/null | head -n1 || true)"
    if [[ -z "${mmcv_wheel}" ]]; then
        log "building mmcv 2.1.0 with its CPU ops (about 36 minutes on 2 cores; done once)"
        MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="$(nproc)" \
            "${py}" -m pip wheel --no-deps --no-build-isolation --disable-pip-version-check \
            --progress-bar off -w "${wheels}" 'mmcv==2.1.0' >&2
        mmcv_wheel="$(ls "${wheels}"/mmcv-2.1.0-*.whl | head -n1)"
    fi
    log "installing ${mmcv_wheel##*/} and the OpenMMLab stack"
    "${pip[@]}" "${mmcv_wheel}" >&2
    "${pip[@]}" -r "${repo}/requirements/runtime.txt" -r "${repo}/requirements/mminstall.txt" \
        -r "${repo}/requirements/tests.txt" 'setuptools<81' >&2
    echo "${stamp}" > "${venv}/.hieraseg-stamp"
fi

log "installing hieraseg (editable) from ${repo}"
"${pip[@]}" --no-deps --no-build-isolation -e "${repo}" >&2 2>&1 | tail -n1 >&2
"${py}" -c "import mmcv.ops, mmseg, mmpretrain, hieraseg" >&2
echo "${py}"
