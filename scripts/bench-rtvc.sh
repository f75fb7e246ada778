#!/usr/bin/env bash
# RTVC's stages in voxclone against RTVC's PyTorch architecture, measured in the same run on the
# same machine: WaveRNN samples per second (folded as RTVC's infer_waveform does: target 8000,
# overlap 800; and sample by sample), Tacotron decoder frames per second, and our Griffin-Lim.
#
#   bash scripts/bench-rtvc.sh                 # 5 s folded, 1 s unbatched, 300 decoder frames
#   SECONDS_AUDIO=2 UNBATCHED=0.5 FRAMES=100 bash scripts/bench-rtvc.sh
#
# The PyTorch side is scripts/rtvc_reference.py's `bench` mode (random weights, RTVC's sampling
# with torch.distributions.Categorical, prenet dropout on). It runs under $TORCH_PYTHON: by default
# the PyPI torch of .venv-ref (scripts/reference-venv.sh) when present, as RTVC users install it,
# else Debian's python3-torch. Both sides get $THREADS threads (default 2); nothing else should
# run meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_AUDIO="${SECONDS_AUDIO:-5}"
UNBATCHED="${UNBATCHED:-1}"
FRAMES="${FRAMES:-300}"
THREADS="${THREADS:-2}"
if [ -z "${TORCH_PYTHON:-}" ]; then
  if [ -x .venv-ref/bin/python ]; then TORCH_PYTHON=.venv-ref/bin/python; else TORCH_PYTHON=/usr/bin/python3; fi
fi
DIR=target/tmp/rtvc-reference
[ -f "$DIR/vocoder.pt" ] || /usr/bin/python3 scripts/rtvc_reference.py golden "$DIR" >/dev/null
cargo build --release -q -p voxclone --example bench_rtvc

echo "voxclone (Rust, candle + fused WaveRNN kernel), $THREADS threads:" >&2
ours=$(RAYON_NUM_THREADS=$THREADS target/release/examples/bench_rtvc "$DIR" "$SECONDS_AUDIO" "$UNBATCHED" "$FRAMES")
echo "$ours" >&2
echo "PyTorch ($TORCH_PYTHON), $THREADS threads:" >&2
theirs=$("$TORCH_PYTHON" scripts/rtvc_reference.py bench --seconds "$SECONDS_AUDIO" \
  --unbatched-seconds "$UNBATCHED" --taco-steps "$FRAMES" --threads "$THREADS")
echo "$theirs" >&2

python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'':34}{'voxclone':>12}{'PyTorch ' + theirs['torch']:>22}{'ratio':>8}")
for key, label in [("batched_samples_per_s", f"WaveRNN folded, samples/s"),
                   ("unbatched_samples_per_s", "WaveRNN unbatched, samples/s"),
                   ("taco_frames_per_s", "Tacotron decoder, frames/s")]:
    print(f"{label:34}{ours[key]:>12,.0f}{theirs[key]:>22,.0f}{ours[key] / theirs[key]:>7.1f}x")
print(f"{'Griffin-Lim (60 iters), samples/s':34}{ours['griffin_lim_samples_per_s']:>12,.0f}")
print(f"real time = 16,000 samples/s or 80 frames/s; cpu: {theirs.get('cpu', '?')}, torch BLAS: {theirs.get('blas', '?')}")
PY
