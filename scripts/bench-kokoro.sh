#!/usr/bin/env bash
# Kokoro-82M synthesis speed, voxclone beside ONNX Runtime (kokoro-onnx's int8 export), same machine,
# same run, same sentences (bench/sentences.tsv, voice jf_alpha), at 1 and 2 threads.
# voxclone: `cargo bench -p voxclone-synthesizer --bench synthesis -- --json` with RAYON_NUM_THREADS;
# the peer: scripts/bench_kokoro_ort.py (intra-op threads) in .venv-kokoro (scripts/kokoro-reference-venv.sh).
# Both: each sentence whole, load and one warm-up excluded, best of BENCH_REPEATS passes (default 3).
# KERNELS (default "amx avx512 avx2 portable") picks the convolution kernels to run (avx512: bf16 dot
# products, where the CPU has AVX512_BF16); one this CPU lacks
# falls back to the next (VOXCLONE_KERNEL), and each kernel that actually ran is reported once.
# Prints a markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/kokoro-reference-venv.sh >/dev/null
export BENCH_REPEATS="${BENCH_REPEATS:-3}"
cargo bench --quiet -p voxclone-synthesizer --bench synthesis --no-run 2>/dev/null
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for threads in 1 2; do
  for kernel in ${KERNELS:-amx avx512 avx2 portable}; do
    VOXCLONE_KERNEL=$kernel RAYON_NUM_THREADS=$threads \
      cargo bench --quiet -p voxclone-synthesizer --bench synthesis -- --json 2>/dev/null | grep '^{' >>"$results"
  done
  .venv-kokoro/bin/python -W ignore scripts/bench_kokoro_ort.py --threads "$threads" \
    --repeats "$BENCH_REPEATS" --json >>"$results"
done
.venv-kokoro/bin/python - "$results" <<'PY'
import json, sys
rows, seen = [], set()
for r in (json.loads(l) for l in open(sys.argv[1]) if l.strip()):
    if (r["threads"], r["impl"]) not in seen:  # a forced kernel this CPU lacks ran another one
        seen.add((r["threads"], r["impl"]))
        rows.append(r)
flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), [])
print("CPU flags: " + " ".join(f for f in flags if f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")))
print(f"CPU: {rows[0]['cpu']}; {rows[0]['sentences']} sentences, {rows[0]['audio_seconds']:.1f} s of audio "
      f"(ours; ORT's untrimmed output: {next(r for r in rows if r['impl'].startswith('onnx'))['audio_seconds']:.1f} s); "
      f"best of {rows[0]['repeats']}\n")
print("| threads | implementation | wall s | RTF | vs ORT (RTF) | first audio s (10 words) | vs ORT | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|")
for t in sorted({r["threads"] for r in rows}):
    ref = next(r for r in rows if r["threads"] == t and r["impl"].startswith("onnx"))
    for r in [x for x in rows if x["threads"] == t]:
        print(f"| {t} | {r['impl']} | {r['wall_seconds']:.3f} | {r['rtf']:.3f} | {ref['rtf'] / r['rtf']:.2f}x | "
              f"{r['time_to_first_audio_seconds']:.3f} | {ref['time_to_first_audio_seconds'] / r['time_to_first_audio_seconds']:.2f}x | "
              f"{r['peak_rss_mib']:.0f} |")
PY
