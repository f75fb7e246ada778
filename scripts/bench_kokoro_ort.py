#!/usr/bin/env python3
"""The peer side of the Kokoro-82M benchmark: ONNX Runtime running kokoro-onnx's int8 export.

    bash scripts/kokoro-reference-venv.sh
    .venv-kokoro/bin/python scripts/bench_kokoro_ort.py --threads 2            # table
    .venv-kokoro/bin/python scripts/bench_kokoro_ort.py --threads 1 --json     # one JSON line

Input: a sentence file, text<TAB>phonemes[<TAB>tag] ('#' lines are comments; default
bench/sentences.tsv). Each sentence is synthesised whole (one session.run per sentence, voice
jf_alpha, speed 1.0), the way a sentence-by-sentence streamer produces audio. The session uses
intra_op_num_threads = --threads, inter_op_num_threads = 1, sequential execution, all graph
optimisations. Model load and one warm-up run (the last sentence) are excluded.

Reported per sentence and overall: audio seconds (untrimmed model output at 24 kHz), wall
seconds (the best of --repeats passes; 1 by default), real-time factor = wall / audio,
time to first audio = the first sentence's wall time (a streamer's first chunk), and peak
RSS of the process (resource.getrusage ru_maxrss, which includes the model load).
"""

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden_kokoro as gk  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def read_tags(path):
    """The optional third column (tag) of each sentence line, '' where absent."""
    tags = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        tags.append(cols[2].strip() if len(cols) > 2 else "")
    return tags


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("sentences", type=Path, nargs="?", default=REPO / "bench" / "sentences.tsv")
    ap.add_argument("--threads", type=int, default=1, help="ORT intra-op threads (default 1)")
    ap.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", "1")),
                    help="passes over the sentences; each sentence's best wall time is kept")
    ap.add_argument("--voice", default=gk.VOICE)
    ap.add_argument("--speed", type=float, default=gk.SPEED)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args()

    sentences = gk.read_sentences(args.sentences)
    tags = read_tags(args.sentences)
    vocab = gk.load_vocab()
    voice = gk.load_voice(args.voice)
    feeds = [gk.model_inputs(gk.encode(ps, vocab), voice, args.speed) for _, ps in sentences]

    t = time.perf_counter()
    session = gk.make_session(gk.model_bytes(), threads=args.threads)
    load_seconds = time.perf_counter() - t
    session.run(["audio"], feeds[-1])  # warm-up (on the last sentence, so the first is not pre-run)

    walls = [float("inf")] * len(sentences)
    samples = [0] * len(sentences)
    for _ in range(args.repeats):
        for i, f in enumerate(feeds):
            t = time.perf_counter()
            audio = session.run(["audio"], f)[0]
            walls[i] = min(walls[i], time.perf_counter() - t)
            samples[i] = int(np.asarray(audio).size)
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    rows = []
    for (text, phonemes), tag, wall, n in zip(sentences, tags, walls, samples):
        audio_s = n / gk.SAMPLE_RATE
        rows.append({"text": text, "tag": tag, "phonemes": len(phonemes), "words": len(text.split()),
                     "audio_seconds": round(audio_s, 4), "wall_seconds": round(wall, 4),
                     "rtf": round(wall / audio_s, 4)})
    total_audio = sum(n for n in samples) / gk.SAMPLE_RATE
    total_wall = sum(walls)
    import onnxruntime as ort

    result = {
        "impl": "onnxruntime-int8", "model": "kokoro-v1.0.int8.onnx (kokoro-onnx)",
        "threads": args.threads, "repeats": args.repeats, "voice": args.voice, "speed": args.speed,
        "sentences": len(rows), "audio_seconds": round(total_audio, 3),
        "wall_seconds": round(total_wall, 4), "rtf": round(total_wall / total_audio, 4),
        "time_to_first_audio_seconds": round(walls[0], 4),
        "ten_words_wall_seconds": next((r["wall_seconds"] for r in rows if r["tag"] == "ten-words"), None),
        "peak_rss_mib": round(peak_rss_mib, 1), "load_seconds": round(load_seconds, 3),
        "onnxruntime": ort.__version__, "cpu": cpu_name(), "per_sentence": rows,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"ONNX Runtime {ort.__version__}, {args.threads} intra-op thread(s), CPU: {result['cpu']}")
    print(f"model load {load_seconds:.2f} s; best of {args.repeats} pass(es)\n")
    print("| # | words | phonemes | audio s | wall s | RTF | tag |")
    print("|---|---|---|---|---|---|---|")
    for i, r in enumerate(rows):
        print(f"| {i} | {r['words']} | {r['phonemes']} | {r['audio_seconds']:.2f} | "
              f"{r['wall_seconds']:.3f} | {r['rtf']:.3f} | {r['tag']} |")
    print(f"\noverall: {total_audio:.2f} s of audio in {total_wall:.3f} s, RTF {result['rtf']:.3f}; "
          f"time to first audio {walls[0]:.3f} s ({rows[0]['words']} words); "
          f"peak RSS {peak_rss_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
