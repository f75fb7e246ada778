#!/usr/bin/env python3
"""Reference golden data for the GE2E speaker encoder port, made with the real Resemblyzer 0.1.4.

Run with the reference environment (scripts/reference-venv.sh):

    bash scripts/reference-venv.sh
    nice .venv-ref/bin/python scripts/golden_ge2e.py

Writes golden/ge2e/{clips.txt, all.npz, detail.npz, README.md}; see that README for the keys.

Everything the port is compared against comes from Resemblyzer's own functions
(preprocess_wav, normalize_volume, wav_to_mel_spectrogram, VoiceEncoder.compute_partial_slices,
embed_utterance, embed_speaker). Resemblyzer does not expose its VAD mask, so this script
recomputes it step by step and asserts that the recomputed mask turns the volume-normalised
waveform into preprocess_wav's output sample for sample.
"""

import argparse
import importlib.metadata
import inspect
import platform
import sys
import time
import warnings
from pathlib import Path

# Resemblyzer imports scipy.ndimage.morphology (deprecated) and calls torch.load without
# weights_only; both warnings are noise here.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import webrtcvad  # noqa: E402
from resemblyzer import VoiceEncoder, audio, hparams, normalize_volume, preprocess_wav  # noqa: E402
from resemblyzer import trim_long_silences, wav_to_mel_spectrogram  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path("/work/shared/data/librispeech-test-other")
DEFAULT_OUT = REPO / "golden" / "ge2e"
DETAIL_LIMIT_BYTES = 2 * 1024 * 1024
N_SHORTEST_DETAIL = 3
MIN_PARTIALS_LONG_DETAIL = 5

SR = hparams.sampling_rate
VAD_WINDOW = hparams.vad_window_length * SR // 1000  # samples per VAD window (480)
VAD_AVG_WIDTH = hparams.vad_moving_average_width  # 8
VAD_DILATE_RADIUS = (hparams.vad_max_silence_length + 1) // 2  # element of 7 windows: +-3
VAD_MODE = 3  # the aggressiveness resemblyzer's trim_long_silences uses
PARTIAL_RATE = inspect.signature(VoiceEncoder.embed_utterance).parameters["rate"].default
PARTIAL_MIN_COVERAGE = inspect.signature(VoiceEncoder.embed_utterance).parameters[
    "min_coverage"
].default


def decode(path):
    """The first two steps of preprocess_wav: decode at the native rate, then resample."""
    wav, source_sr = librosa.load(str(path), sr=None)
    resampled = librosa.resample(wav, orig_sr=source_sr, target_sr=SR)
    assert source_sr == SR and resampled is wav, f"{path}: expected a {SR} Hz file (no resampling)"
    assert wav.dtype == np.float32 and wav.ndim == 1, (path, wav.dtype, wav.shape)
    return wav


def volume_gain_db(wav):
    """Gain (dB) that normalize_volume(increase_only=True) applies to `wav`, 0.0 if none."""
    full_scale = audio.int16_max
    rms = np.sqrt(np.mean((wav * full_scale) ** 2))
    change = hparams.audio_norm_target_dBFS - 20 * np.log10(rms / full_scale)
    return float(change) if change >= 0 else 0.0


def vad_masks(wav):
    """Per-30 ms-window VAD flags (raw, and final keep mask) as trim_long_silences derives them.

    wav: the volume-normalised float waveform. Returns (raw, keep), both bool [n_windows].
    """
    n_windows = len(wav) // VAD_WINDOW
    pcm = np.round(wav[: n_windows * VAD_WINDOW] * audio.int16_max).astype(np.int16)
    # One detector for the whole utterance, fed in order: WebRTC VAD keeps state between windows.
    detector = webrtcvad.Vad(VAD_MODE)
    raw = np.zeros(n_windows, dtype=bool)
    for k in range(n_windows):
        window = pcm[k * VAD_WINDOW : (k + 1) * VAD_WINDOW]
        raw[k] = detector.is_speech(window.astype("<i2").tobytes(), SR)

    # Moving average over windows k-3 .. k+4 (outside = 0), rounded half to even.
    before, after = (VAD_AVG_WIDTH - 1) // 2, VAD_AVG_WIDTH // 2
    padded = np.concatenate([np.zeros(before), raw.astype(np.float64), np.zeros(after)])
    sums = np.array([padded[k : k + VAD_AVG_WIDTH].sum() for k in range(n_windows)])
    voiced = np.round(sums / VAD_AVG_WIDTH).astype(bool)

    # Dilation: keep window k if any voiced window lies in k-3 .. k+3 (outside = unvoiced).
    r = VAD_DILATE_RADIUS
    padded_voiced = np.concatenate([np.zeros(r, bool), voiced, np.zeros(r, bool)])
    keep = np.array([padded_voiced[k : k + 2 * r + 1].any() for k in range(n_windows)])
    return raw, keep


def apply_keep_mask(wav, keep):
    n = len(keep) * VAD_WINDOW
    return wav[:n][np.repeat(keep, VAD_WINDOW)]


def padded_for_partials(wav):
    """The waveform exactly as embed_utterance pads it, plus the mel frame slices of its partials."""
    wav_slices, mel_slices = VoiceEncoder.compute_partial_slices(
        len(wav), PARTIAL_RATE, PARTIAL_MIN_COVERAGE
    )
    target = wav_slices[-1].stop
    if target >= len(wav):
        wav = np.pad(wav, (0, target - len(wav)), "constant")
    return wav, mel_slices


def versions():
    names = ["resemblyzer", "webrtcvad", "torch", "librosa", "soxr", "soundfile", "numpy", "scipy",
             "numba"]
    out = {"python": platform.python_version()}
    for name in names:
        out[name] = importlib.metadata.version(name)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="librispeech-test-other folder (<speaker>/<utt>.flac)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)

    clips = sorted(p.relative_to(args.data).as_posix() for p in args.data.glob("*/*.flac"))
    speakers = sorted({c.split("/")[0] for c in clips})
    assert len(clips) == 100 and len(speakers) == 10, (len(clips), len(speakers))
    (args.out / "clips.txt").write_text("".join(c + "\n" for c in clips))

    encoder = VoiceEncoder(device="cpu", verbose=False)

    n = len(clips)
    source_len = np.zeros(n, np.int64)
    trimmed_len = np.zeros(n, np.int64)
    n_partials = np.zeros(n, np.int64)
    gain_db = np.zeros(n, np.float64)
    utterance_embeddings = np.zeros((n, 256), np.float32)
    masks = {}
    wavs, partials = [], []

    for i, clip in enumerate(clips):
        path = args.data / clip
        wav = preprocess_wav(path)  # Resemblyzer's own pipeline: the reference output
        assert wav.dtype == np.float32, wav.dtype

        # Recompute the intermediate steps and check they give exactly the same waveform.
        decoded = decode(path)
        normalised = normalize_volume(decoded, hparams.audio_norm_target_dBFS, increase_only=True)
        gain_db[i] = volume_gain_db(decoded)
        if gain_db[i] == 0.0:
            assert normalised is decoded
        else:
            expected = decoded * np.float32(10 ** (gain_db[i] / 20))
            assert np.allclose(normalised, expected, rtol=1e-6, atol=0), clip
        raw, keep = vad_masks(normalised)
        mine = apply_keep_mask(normalised, keep)
        assert mine.dtype == wav.dtype and np.array_equal(mine, wav), f"{clip}: VAD mask mismatch"
        assert np.array_equal(trim_long_silences(normalised), wav)

        embed, parts, _ = encoder.embed_utterance(wav, return_partials=True)
        source_len[i] = len(decoded)
        trimmed_len[i] = len(wav)
        n_partials[i] = len(parts)
        utterance_embeddings[i] = embed
        masks[f"vad_{i:03d}"] = keep.astype(np.uint8)
        masks[f"vadraw_{i:03d}"] = raw.astype(np.uint8)
        wavs.append(wav)
        partials.append(parts.astype(np.float32))
        print(f"[{i + 1:3d}/{n}] {clip}: {len(decoded)} -> {len(wav)} samples, "
              f"{len(parts)} partials, gain {gain_db[i]:.2f} dB", flush=True)

    speaker_embeddings = np.zeros((len(speakers), 256), np.float32)
    for s, speaker in enumerate(speakers):
        idx = [i for i, c in enumerate(clips) if c.split("/")[0] == speaker]
        assert len(idx) == 10, (speaker, len(idx))
        speaker_embeddings[s] = encoder.embed_speaker([wavs[i] for i in idx])
        mean = utterance_embeddings[idx].mean(axis=0)
        assert np.allclose(speaker_embeddings[s], mean / np.linalg.norm(mean), atol=1e-6)

    all_path = args.out / "all.npz"
    np.savez(
        all_path,
        utterance_embeddings=utterance_embeddings,
        speaker_embeddings=speaker_embeddings,
        trimmed_len=trimmed_len,
        source_len=source_len,
        n_partials=n_partials,
        gain_db=gain_db,
        **masks,
    )

    # Detail clips: the 3 shortest (after trimming), plus the shortest with >= 5 partials.
    by_length = list(np.argsort(trimmed_len, kind="stable"))
    detail = by_length[:N_SHORTEST_DETAIL]
    detail.append(next(i for i in by_length if n_partials[i] >= MIN_PARTIALS_LONG_DETAIL))
    detail_arrays = {"detail_index": np.array(detail, np.int64)}
    max_partial_diff = 0.0
    for i in detail:
        padded, mel_slices = padded_for_partials(wavs[i])
        mel = wav_to_mel_spectrogram(padded)
        assert mel.dtype == np.float32 and mel.shape[1] == hparams.mel_n_channels
        # The mel slices must reproduce the partials embed_utterance returned.
        with torch.no_grad():
            again = encoder(torch.from_numpy(np.stack([mel[s] for s in mel_slices]))).numpy()
        assert again.shape == partials[i].shape
        max_partial_diff = max(max_partial_diff, float(np.abs(again - partials[i]).max()))
        # C order: Rust's npy reader (candle) rejects Fortran-ordered arrays.
        detail_arrays[f"mel_{i:03d}"] = np.ascontiguousarray(mel)
        detail_arrays[f"partials_{i:03d}"] = partials[i]
    assert max_partial_diff < 1e-6, max_partial_diff
    wav_bytes = sum(wavs[i].nbytes for i in detail)
    other_bytes = sum(a.nbytes for a in detail_arrays.values())
    include_wavs = other_bytes + wav_bytes < DETAIL_LIMIT_BYTES - 64 * 1024  # leave room for headers
    if include_wavs:
        for i in detail:
            detail_arrays[f"wav_{i:03d}"] = wavs[i]
    detail_path = args.out / "detail.npz"
    np.savez(detail_path, **detail_arrays)

    elapsed = time.perf_counter() - t0
    write_readme(args.out, versions(), args.threads, include_wavs)

    # Summary.
    fraction = trimmed_len / source_len
    print()
    print(f"versions: {versions()}")
    print(f"speakers: {speakers}")
    print(f"trimmed fraction (kept/decoded): min {fraction.min():.3f} ({clips[fraction.argmin()]}), "
          f"median {np.median(fraction):.3f}, max {fraction.max():.3f} ({clips[fraction.argmax()]})")
    print(f"trimmed length: min {trimmed_len.min()} max {trimmed_len.max()} samples; "
          f"partials: min {n_partials.min()} max {n_partials.max()} total {n_partials.sum()}")
    print(f"gain applied to {int((gain_db > 0).sum())} clips (max {gain_db.max():.2f} dB)")
    print(f"detail clips: {[(int(i), clips[i], int(trimmed_len[i]), int(n_partials[i])) for i in detail]}"
          f"; wavs included: {include_wavs}; partial recompute max diff {max_partial_diff:.2e}")
    for path in [args.out / "clips.txt", all_path, detail_path]:
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: "
              f"{path.stat().st_size} bytes")
    for path in [all_path, detail_path]:
        with np.load(path) as z:
            shown = [k for k in z.files if not k.startswith("vad")] + ["vad_000", "vadraw_000"]
            for k in shown:
                if k in z.files:
                    print(f"  {path.name}:{k} {z[k].dtype} {list(z[k].shape)}")
            n_vad = sum(k.startswith("vad") for k in z.files)
            if n_vad:
                print(f"  {path.name}: {n_vad} vad_*/vadraw_* arrays")
    print(f"golden generation took {elapsed:.1f} s (torch threads: {args.threads})")


def write_readme(out, vers, threads, include_wavs):
    version_lines = "\n".join(f"- {k} {v}" for k, v in vers.items())
    wav_line = (
        "- `wav_iii` float32 [N]: the preprocessed waveform (volume-normalised, VAD-trimmed,\n"
        "  *unpadded*), i.e. `preprocess_wav(file)`; N = `trimmed_len[iii]`.\n"
        if include_wavs else ""
    )
    text = f"""# GE2E reference golden data (Resemblyzer 0.1.4)

Made with the real Python Resemblyzer 0.1.4 (pretrained GE2E encoder of Real-Time-Voice-Cloning) on the
100 clips of `shared/data/librispeech-test-other` (10 speakers x 10 utterances, 16 kHz FLAC), CPU, float32.

Regenerate (from the repository root; the venv is about 5.6 GB, mostly the CUDA wheels PyPI's torch pulls in):

```sh
bash scripts/reference-venv.sh
nice .venv-ref/bin/python scripts/golden_ge2e.py   # --data DIR --out DIR --threads N
```

Versions used:
{version_lines}
- torch CPU threads: {threads}

## Files
Clip index `i` (0-based) is the line number in `clips.txt`; in key names it is written with 3 digits (`iii`).

### `clips.txt`
The 100 clips, one per line, as paths relative to the librispeech-test-other folder
(`<speaker>/<speaker>-<chapter>-<utt>.flac`), string-sorted.

### `all.npz` (`np.savez`, uncompressed)
- `utterance_embeddings` float32 [100,256]: `VoiceEncoder.embed_utterance(preprocess_wav(file))`.
- `speaker_embeddings` float32 [10,256]: `embed_speaker` over each speaker's 10 preprocessed wavs; speakers in
  string-sorted folder order: 1688, 1998, 2033, 2414, 2609, 3005, 3080, 3331, 367, 533.
- `trimmed_len` int64 [100]: samples after `preprocess_wav` (a multiple of 480).
- `source_len` int64 [100]: samples decoded from the FLAC (16 kHz, so no resampling happens).
- `n_partials` int64 [100]: partial embeddings averaged by `embed_utterance` (rate 1.3, min coverage 0.75).
- `gain_db` float64 [100]: gain of the volume normalisation (target -30 dBFS, increase only); 0 where none.
- `vad_iii` uint8 [n_windows]: final keep mask per 30 ms window (480 samples) used by `trim_long_silences`
  (after the 8-window moving average with half-to-even rounding and the 7-window dilation);
  n_windows = floor(source_len / 480). The trimmed wav is the concatenation of the kept windows.
- `vadraw_iii` uint8 [n_windows]: raw `webrtcvad` (mode 3) `is_speech` flags, before smoothing. One `Vad`
  instance per utterance, fed the windows in order (WebRTC VAD is stateful).

### `detail.npz` (`np.savez`, uncompressed)
Four clips: the 3 shortest after trimming, plus the shortest clip with at least 5 partials.
- `detail_index` int64 [4]: their clip indices.
- `mel_iii` float32 [frames,40]: `wav_to_mel_spectrogram` of the trimmed wav zero-padded exactly as
  `embed_utterance` pads it (to `160*(s_last+160)` samples when that is >= its length); mel power, no log.
  Partial p uses frames `[77p, 77p+160)`.
- `partials_iii` float32 [P,256]: the partial embeddings `embed_utterance(..., return_partials=True)` returned.
{wav_line}
## Behaviour of the reference worth knowing
- `preprocess_wav(path)` calls `librosa.load(path, sr=None)` (soundfile: float32, int16/32768 exactly), then
  `librosa.resample(wav, orig_sr=sr, target_sr=16000)` (default `res_type='soxr_hq'`), which returns its input
  unchanged when the rates are equal: these 16 kHz clips are never resampled.
- Volume normalisation computes the RMS and the gain in float32 (`gain_db` holds that float32 value widened).
- The mel is librosa 0.10's `melspectrogram` defaults: n_fft 400, hop 160, periodic Hann, `center=True` with
  `pad_mode='constant'` (zeros), power 2, 40 Slaney mel bands; cast to float32, no log.

## How the VAD mask was obtained
Resemblyzer does not expose it. `scripts/golden_ge2e.py` recomputes it step by step and asserts, for every clip,
that keeping the masked windows of the volume-normalised waveform reproduces `preprocess_wav`'s output
sample for sample. It also asserts that the mel slices of `detail.npz` reproduce the partial embeddings.

## Attribution
Audio-derived data from LibriSpeech (Panayotov et al., 2015, from LibriVox audiobooks), licensed CC BY 4.0
(https://www.openslr.org/12). Embeddings computed with Resemblyzer 0.1.4 (Apache-2.0) and its bundled pretrained
model.
"""
    (out / "README.md").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
