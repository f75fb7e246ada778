#!/usr/bin/env python3
"""The reference side of the intelligibility benchmark: Kokoro-82M on ONNX Runtime (the int8
export from PyPI, see golden_kokoro.py) reading phonemes from espeak-ng, as kokoro-onnx does
(espeak-ng's en-us IPA with stress marks, symbols outside Kokoro's vocabulary dropped).

    .venv-kokoro/bin/python scripts/kokoro_espeak_speak.py SENTENCES.txt OUT_DIR [--voice jf_alpha]

Writes OUT_DIR/NNN.wav (24 kHz, 16-bit) for each line of SENTENCES.txt and OUT_DIR/list.tsv
(path<TAB>text) for the ASR judge. Needs `espeak-ng` (Debian package espeak-ng).
"""
import argparse
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden_kokoro as gk  # noqa: E402


def espeak_phonemes(text, vocab):
    ipa = subprocess.run(
        ["espeak-ng", "-q", "--ipa", "-v", "en-us", text],
        check=True, capture_output=True, text=True,
    ).stdout
    # One line per clause; join them with a space, keep only symbols the model knows.
    ipa = " ".join(line.strip() for line in ipa.splitlines() if line.strip())
    return "".join(c for c in ipa if c in vocab)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sentences")
    ap.add_argument("out")
    ap.add_argument("--voice", default=gk.VOICE)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    vocab = gk.load_vocab()
    voice = gk.load_voice(args.voice)
    session = gk.make_session(gk.model_bytes(), threads=args.threads)
    lines = [l.strip() for l in Path(args.sentences).read_text(encoding="utf-8").splitlines() if l.strip()]
    with open(out / "list.tsv", "w", encoding="utf-8") as listing:
        for i, text in enumerate(lines):
            phonemes = espeak_phonemes(text, vocab)
            ids = [vocab[c] for c in phonemes][:510]
            audio = session.run(None, gk.model_inputs(ids, voice, 1.0))[0].ravel()
            pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
            path = out / f"{i:03d}.wav"
            with wave.open(str(path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(gk.SAMPLE_RATE)
                w.writeframes(pcm.tobytes())
            listing.write(f"{path}\t{text}\n")
            print(f"{i:03d}\t{phonemes}", file=sys.stderr)


if __name__ == "__main__":
    main()
