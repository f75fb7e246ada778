#!/usr/bin/env bash
# Speaker-embedding throughput, voxclone beside Resemblyzer 0.1.4, same machine, same run, same clips
# (the 100 LibriSpeech test-other clips), 1 and 2 threads. Throughput = seconds of audio embedded per
# second of wall time (audio already decoded, model load excluded; best of BENCH_REPEATS runs).
# voxclone runs with each CPU kernel this machine has (AMX bf16x3, AVX-512, portable gemm; a kernel
# the CPU lacks falls back to the next, and the table says which ran).
# Prints a markdown table for BENCHMARKS.md. Needs the reference venv (scripts/reference-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/reference-venv.sh >/dev/null
export BENCH_REPEATS="${BENCH_REPEATS:-5}"
cargo bench --quiet -p voxclone --bench encoder_throughput --no-run 2>/dev/null
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for threads in 1 2; do
  for kernel in ${KERNELS:-amx avx512 portable}; do
    VOXCLONE_KERNEL=$kernel RAYON_NUM_THREADS=$threads \
      cargo bench --quiet -p voxclone --bench encoder_throughput 2>/dev/null | grep '^{' >>"$results"
  done
  .venv-ref/bin/python -W ignore scripts/bench_resemblyzer.py --threads "$threads" --repeats "$BENCH_REPEATS" >>"$results"
done
.venv-ref/bin/python - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"CPU: {cpu}; audio: {rows[0]['audio_seconds']} s in 100 clips\n")
print("| threads | implementation | mode | wall s | audio s / wall s | vs Resemblyzer |")
print("|---|---|---|---|---|---|")
for t in sorted({r["threads"] for r in rows}):
    ref = next(r for r in rows if r["threads"] == t and r["impl"] == "resemblyzer")
    for r in [x for x in rows if x["threads"] == t]:
        print(f"| {t} | {r['impl']} | {r['mode']} | {r['wall_seconds']:.3f} | {r['throughput']:.0f} | "
              f"{r['throughput'] / ref['throughput']:.2f}x |")
PY
