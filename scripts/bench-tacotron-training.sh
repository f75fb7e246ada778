#!/usr/bin/env bash
# Training RTVC's Tacotron in voxclone against the same step in PyTorch, measured in the same run
# on the same machine: seconds per optimiser step (teacher-forced pass, RTVC's loss, backward,
# clipping, Adam) and peak memory, on made-up batches of 60-character texts.
#
#   bash scripts/bench-tacotron-training.sh                      # the default cases below
#   CASES="small:4:400 rtvc:12:900" STEPS=2 bash scripts/bench-tacotron-training.sh
#
# A case is WIDTHS:BATCH:FRAMES (widths rtvc or small). The PyTorch side is
# scripts/rtvc_reference.py's `train-bench` (our PyTorch re-implementation of RTVC's Tacotron,
# zoneout and pre-net dropout on, train-mode batch norm) under $TORCH_PYTHON: by default the PyPI
# torch of .venv-ref (scripts/reference-venv.sh) when present, else Debian's python3-torch. Both
# sides get $THREADS threads (default 2); nothing else should run meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${CASES:-small:4:400 rtvc:4:400 rtvc:12:900}"
STEPS="${STEPS:-3}"
THREADS="${THREADS:-2}"
if [ -z "${TORCH_PYTHON:-}" ]; then
  if [ -x .venv-ref/bin/python ]; then TORCH_PYTHON=.venv-ref/bin/python; else TORCH_PYTHON=/usr/bin/python3; fi
fi
cargo build --release -q -p voxclone-synthesizer --example bench_tacotron_training

printf '%-18s %16s %16s %7s %14s %14s\n' "widths × batch × frames" "voxclone s/step" "PyTorch s/step" "ratio" "voxclone MiB" "PyTorch MiB"
for case in $CASES; do
  IFS=: read -r size batch frames <<<"$case"
  ours=$(RAYON_NUM_THREADS=$THREADS target/release/examples/bench_tacotron_training "$size" "$batch" "$frames" "$STEPS")
  theirs=$("$TORCH_PYTHON" scripts/rtvc_reference.py train-bench --size "$size" --batch "$batch" \
    --frames "$frames" --steps "$STEPS" --threads "$THREADS")
  python3 - "$case" "$ours" "$theirs" <<'PY'
import json, sys
case, ours, theirs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
a, b = ours["seconds_per_step"], theirs["seconds_per_step"]
print(f"{case.replace(':', ' × '):24} {a:16.2f} {b:16.2f} {b / a:6.2f}x {ours['peak_mib']:14} {theirs['peak_mib']:14}")
PY
done
echo "ratio = PyTorch time / voxclone time (above 1: voxclone faster); torch: $("$TORCH_PYTHON" -c 'import torch; print(torch.__version__)'), $THREADS threads"
