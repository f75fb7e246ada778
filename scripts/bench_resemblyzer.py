"""Resemblyzer's embedding throughput on the same clips and terms as
crates/voxclone/benches/encoder_throughput.rs: audio decoded beforehand, model load excluded;
timed = preprocess_wav (normalise + VAD trim) + embed_utterance, one call per clip (its API).

Run with the reference venv: .venv-ref/bin/python scripts/bench_resemblyzer.py --threads N
Prints one JSON line.
"""
import argparse
import json
import os
import time
from pathlib import Path

import librosa
import torch
from resemblyzer import VoiceEncoder, preprocess_wav

REPO = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", "3")))
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared/data/librispeech-test-other")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    clips = [l for l in (REPO / "golden/ge2e/clips.txt").read_text().splitlines() if l]
    audio = [librosa.load(str(args.data / c), sr=None) for c in clips]
    seconds = sum(len(w) / sr for w, sr in audio)
    encoder = VoiceEncoder(device="cpu", verbose=False)
    encoder.embed_utterance(preprocess_wav(audio[0][0], source_sr=audio[0][1]))  # warm-up

    best = float("inf")
    for _ in range(args.repeats):
        t = time.perf_counter()
        for wav, sr in audio:
            encoder.embed_utterance(preprocess_wav(wav, source_sr=sr))
        best = min(best, time.perf_counter() - t)
    print(json.dumps({"impl": "resemblyzer", "mode": "per-utterance", "threads": args.threads,
                      "audio_seconds": round(seconds, 2), "wall_seconds": round(best, 4),
                      "throughput": round(seconds / best, 2), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
