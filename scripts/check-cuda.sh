#!/usr/bin/env bash
# Type-checks the whole workspace with `--features cuda` on a machine with no CUDA install and no
# GPU: NVIDIA's compiler comes from PyPI (scripts/cuda-toolkit.txt, pinned by version and hash)
# into ~/.cache/voxclone/cuda-13.0, and candle's kernels are compiled for CUDA_COMPUTE_CAP
# (default 90: H100/H200). It does not link or run: that needs the CUDA libraries and a GPU.
# Not part of scripts/test.sh: compiling candle's kernels takes about half an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
toolkit="${VOXCLONE_CUDA_TOOLKIT:-$HOME/.cache/voxclone/cuda-13.0}"
if [ ! -x "$toolkit/nvidia/cu13/bin/nvcc" ]; then
    rm -rf "$toolkit.part"
    python3 -m pip download --quiet --no-deps --require-hashes \
        -r scripts/cuda-toolkit.txt -d "$toolkit.part/wheels"
    for wheel in "$toolkit.part"/wheels/*.whl; do
        python3 -m zipfile -e "$wheel" "$toolkit.part"
    done
    # Wheels do not keep file modes.
    chmod +x "$toolkit.part"/nvidia/cu13/bin/* "$toolkit.part"/nvidia/cu13/nvvm/bin/*
    rm -rf "$toolkit.part/wheels" "$toolkit"
    mv "$toolkit.part" "$toolkit"
fi
export PATH="$toolkit/nvidia/cu13/bin:$PATH"
export CUDA_ROOT="$toolkit/nvidia/cu13"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
nvcc --version | tail -n 1
cargo check --workspace --all-targets --features voxclone/cuda \
    --target-dir "${CUDA_TARGET_DIR:-target/cuda-check}"
