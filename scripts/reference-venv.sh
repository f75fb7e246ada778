#!/usr/bin/env bash
# Creates the Python reference environment used to generate golden data for the
# GE2E speaker encoder port: Resemblyzer 0.1.4 and its dependencies, every
# version pinned, in $REPO/.venv-ref (git-ignored).
#
#   bash scripts/reference-venv.sh          # idempotent; a no-op once ready
#   PYTHON=python3.11 bash scripts/reference-venv.sh
#   .venv-ref/bin/python scripts/golden_ge2e.py
#
# Only PyPI is used. PyPI's Linux x86_64 torch wheels are CUDA builds whose
# libtorch_cuda.so links libcudart/libcublas/libcudnn/libnccl/... directly, so
# `torch --no-deps` fails at import ("libcublas.so.*[0-9] not found"); the
# nvidia-* wheels are therefore installed too (about 3.3 GB downloaded, about
# 6 GB on disk). Inference runs on the CPU all the same.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-ref"
MARKER="$VENV/.reference-ready"
PYTHON="${PYTHON:-python3}"

# Resemblyzer itself is installed with --no-deps: its metadata asks for the
# `typing` backport, which is meaningless on Python 3 and is not wanted.
RESEMBLYZER_PIN="resemblyzer==0.1.4"

# The full dependency closure, pinned (pip freeze of a working install).
# librosa 0.10.x: STFT centre padding is 'constant' (zeros) and resampling is
# soxr_hq, as in docs/spec. scipy < 1.15 still ships scipy.ndimage.morphology,
# which resemblyzer imports.
PINS=(
  # core of the reference
  "webrtcvad==2.0.10"
  "torch==2.5.1"
  "librosa==0.10.2.post1"
  "soxr==0.5.0.post1"
  "numpy==1.26.4"
  "scipy==1.13.1"
  "soundfile==0.12.1"
  # librosa's dependencies
  "audioread==3.0.1"
  "numba==0.60.0"
  "llvmlite==0.43.0"
  "scikit-learn==1.5.2"
  "joblib==1.4.2"
  "threadpoolctl==3.5.0"
  "decorator==5.1.1"
  "pooch==1.8.2"
  "platformdirs==4.3.6"
  "requests==2.32.3"
  "certifi==2024.8.30"
  "charset-normalizer==3.4.0"
  "idna==3.10"
  "urllib3==2.2.3"
  "packaging==24.2"
  "lazy_loader==0.4"
  "msgpack==1.1.0"
  "cffi==1.17.1"
  "pycparser==2.22"
  "typing_extensions==4.12.2"
  # torch's dependencies (the nvidia-* and triton pins are torch 2.5.1's own,
  # needed only where PyPI's torch wheel is a CUDA build: Linux x86_64)
  "filelock==3.16.1"
  "networkx==3.4.2"
  "jinja2==3.1.4"
  "MarkupSafe==3.0.2"
  "fsspec==2024.10.0"
  "sympy==1.13.1"
  "mpmath==1.3.0"
  "triton==3.1.0; platform_system == 'Linux' and platform_machine == 'x86_64' and python_version < '3.13'"
  "nvidia-cublas-cu12==12.4.5.8; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-cuda-cupti-cu12==12.4.127; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-cuda-nvrtc-cu12==12.4.127; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-cuda-runtime-cu12==12.4.127; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-cudnn-cu12==9.1.0.70; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-cufft-cu12==11.2.1.3; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-curand-cu12==10.3.5.147; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-cusolver-cu12==11.6.1.9; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-cusparse-cu12==12.3.1.170; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-nccl-cu12==2.21.5; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-nvjitlink-cu12==12.4.127; platform_system == 'Linux' and platform_machine == 'x86_64'"
  "nvidia-nvtx-cu12==12.4.127; platform_system == 'Linux' and platform_machine == 'x86_64'"
)

die() { echo "reference-venv: error: $*" >&2; exit 1; }

# The marker holds a fingerprint of the pin list: a changed list reinstalls.
fingerprint="$(printf '%s\n' "$RESEMBLYZER_PIN" "${PINS[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$MARKER" && "$(cat "$MARKER")" == "$fingerprint" ]]; then
  echo "reference-venv: $VENV is ready (marker $MARKER)"
  exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install Python 3.9-3.12 or set PYTHON=..."
"$PYTHON" - <<'EOF' || die "Python 3.9-3.12 is needed (torch 2.5.1 / triton wheels)"
import sys
sys.exit(0 if (3, 9) <= sys.version_info[:2] <= (3, 12) else 1)
EOF
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  die "'$PYTHON -m venv' is not usable (module venv/ensurepip missing). On Debian/Ubuntu: apt-get install python3-venv"
fi
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 \
  || die "a C compiler is needed to build webrtcvad 2.0.10 (sdist). On Debian: apt-get install gcc"

start=$(date +%s)
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "reference-venv: creating $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv' failed. On Debian/Ubuntu: apt-get install python3-venv"
fi
rm -f "$MARKER"

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet "pip==24.3.1" "setuptools==75.6.0" "wheel==0.45.1"
echo "reference-venv: installing ${#PINS[@]} pinned packages (torch pulls ~3.3 GB of CUDA wheels)"
"${PIP[@]}" install --no-cache-dir "${PINS[@]}"
"${PIP[@]}" install --no-cache-dir --no-deps "$RESEMBLYZER_PIN"

echo "reference-venv: checking the install"
"$VENV/bin/python" - <<'EOF'
import warnings
warnings.simplefilter("ignore", DeprecationWarning)
warnings.simplefilter("ignore", FutureWarning)
import importlib.metadata as md
import numpy as np
import resemblyzer
from resemblyzer import VoiceEncoder

enc = VoiceEncoder(device="cpu", verbose=False)
wav = np.zeros(16000, dtype=np.float32)
wav[::50] = 0.1
e = enc.embed_utterance(wav)
assert e.shape == (256,) and abs(float(np.linalg.norm(e)) - 1) < 1e-5, e
for name in ["resemblyzer", "webrtcvad", "torch", "librosa", "soxr", "numpy", "scipy",
             "soundfile", "numba", "llvmlite"]:
    print(f"  {name}=={md.version(name)}")
import sys
print(f"  python {sys.version.split()[0]}")
EOF

echo "$fingerprint" > "$MARKER"
echo "reference-venv: ready in $(( $(date +%s) - start )) s; size $(du -sh "$VENV" | cut -f1)"
