#!/usr/bin/env python3
"""Golden data for the mel front-end and Griffin-Lim of Real-Time-Voice-Cloning's synthesizer.

    python3 scripts/golden_rtvc_mel.py            # writes crates/audio/tests/data/rtvc_mel.npz

Creates (once) a throwaway virtual environment in /tmp/rtvc-mel-venv with librosa, numpy and
scipy at pinned versions, and re-runs itself there. The signal chain is written out here from
RTVC's description (synthesizer/audio.py with synthesizer/hparams.py, which pinned librosa 0.8.1):
librosa 0.10 is called with the arguments whose defaults 0.8.1 had (center=True, reflect padding,
periodic Hann window).

Keys of the .npz (all small; the whole file stays well under 200 KB):

  clip              int16 [24000]  1.5 s of LibriSpeech test-other, 1688/1688-142285-0000.flac from
                                   sample 16000 (the waveform is clip / 32768, exactly what
                                   librosa.load gives for these 16 kHz files)
  mel               f32 [80, 121]  the normalised mel of the clip, RTVC's melspectrogram
  basis_index       i64 [nnz]      flat indices (row * 401 + col) of the filterbank's non-zeros
  basis_value       f32 [nnz]      their values (librosa.filters.mel is float32)
  basis_row_sums    f64 [80]       row sums of the filterbank (a checksum of the zeros too)
  pinv_rows         i64 [R]        rows of the pseudo-inverse given below
  pinv64_rows       f64 [R, 80]    numpy.linalg.pinv(basis as float64), those rows
  pinv32_rows       f32 [R, 80]    numpy.linalg.pinv(basis) as RTVC computes it (float32), those rows
  pinv64_row_sums   f64 [401]      row sums of the float64 pseudo-inverse
  pinv64_col_sums   f64 [80]       column sums of the float64 pseudo-inverse
  linear_frames     i64 [F]        frames of the clip's mel inverted below
  linear            f64 [F, 401]   max(1e-10, pinv32 @ 10^((denormalize(mel) + 20) / 20)), RTVC's
                                   _mel_to_linear, for those frames
  istft_out         f64 [1200]     librosa.istft (hop 200, window 800, centred) of the made-up
                                   7-frame spectrogram X[k, t] = cos(0.1 k t + 0.3 k) / (1 + 0.01 k)
                                   + i sin(0.07 k + 0.5 t) (bin k, frame t; DC and Nyquist included)
  gl_frames         i64 []         the first gl_frames frames of `mel` are inverted by Griffin-Lim
  gl_iters          i64 []         iterations, starting from the phases below
  gl_out            f32 [7800]     RTVC's inv_mel_spectrogram with power 1.5, gl_iters iterations and
                                   the initial phase 2*pi*((k*7919 + t*104729) % 1000) / 1000 at
                                   bin k of frame t (instead of numpy's unseeded random phase)
"""

import os
import subprocess
import sys
from pathlib import Path

VENV = Path("/tmp/rtvc-mel-venv")
PINS = [
    "librosa==0.10.2.post1",
    "numpy==1.26.4",
    "scipy==1.13.1",
    "soundfile==0.12.1",
    "numba==0.60.0",
    "llvmlite==0.43.0",
    "soxr==1.1.0",
    "scikit-learn==1.9.1",
    "joblib==1.6.0",
    "audioread==3.1.0",
    "decorator==5.3.1",
    "lazy-loader==0.6",
    "msgpack==1.2.4",
    "pooch==1.9.0",
    "threadpoolctl==3.8.0",
    "typing_extensions==4.16.0",
    "cffi==2.1.1",
    "pycparser==3.12",
]

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "crates" / "audio" / "tests" / "data" / "rtvc_mel.npz"
DATA = Path(os.environ.get("VOXCLONE_SHARED_DATA", "/work/shared/data")) / "librispeech-test-other"
CLIP = "1688/1688-142285-0000.flac"
CLIP_START = 16_000  # 1 s in: speech, not the leading silence
CLIP_LEN = 24_000  # 1.5 s

# RTVC's synthesizer hyper-parameters.
SR = 16_000
N_FFT = 800
HOP = 200
WIN = 800
N_MELS = 80
FMIN = 55
FMAX = 7600
PREEMPHASIS = 0.97
MIN_LEVEL_DB = -100.0
REF_LEVEL_DB = 20.0
MAX_ABS = 4.0
POWER = 1.5

GL_FRAMES = 40
GL_ITERS = 5
PINV_ROWS = [0, 1, 2, 3, 4, 10, 50, 100, 200, 300, 380, 399, 400]
LINEAR_FRAMES = [0, 30, 60, 120]


def ensure_venv():
    python = VENV / "bin" / "python"
    if Path(sys.prefix) == VENV:
        return
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    marker = VENV / ".pins"
    if not marker.exists() or marker.read_text() != "\n".join(PINS):
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
        marker.write_text("\n".join(PINS))
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def main():
    import librosa
    import numpy as np
    import soundfile as sf
    from scipy import signal

    def stft(y):
        return librosa.stft(y=y, n_fft=N_FFT, hop_length=HOP, win_length=WIN, window="hann",
                            center=True, pad_mode="reflect")

    def istft(spec):
        return librosa.istft(spec, hop_length=HOP, win_length=WIN, window="hann", center=True)

    basis = librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX)
    assert basis.dtype == np.float32 and basis.shape == (N_MELS, N_FFT // 2 + 1)
    min_level = np.exp(MIN_LEVEL_DB / 20 * np.log(10))

    def melspectrogram(wav):
        emphasised = signal.lfilter([1, -PREEMPHASIS], [1], wav)  # float64
        amp = basis @ np.abs(stft(emphasised))
        db = 20 * np.log10(np.maximum(min_level, amp)) - REF_LEVEL_DB
        return np.clip(2 * MAX_ABS * (db - MIN_LEVEL_DB) / -MIN_LEVEL_DB - MAX_ABS, -MAX_ABS, MAX_ABS)

    def denormalize(mel):
        return (np.clip(mel, -MAX_ABS, MAX_ABS) + MAX_ABS) * -MIN_LEVEL_DB / (2 * MAX_ABS) + MIN_LEVEL_DB

    pinv32 = np.linalg.pinv(basis)  # what RTVC uses: float32
    pinv64 = np.linalg.pinv(basis.astype(np.float64))

    def mel_to_linear(mel):
        amp = np.power(10.0, (denormalize(mel) + REF_LEVEL_DB) * 0.05)
        return np.maximum(1e-10, pinv32 @ amp)

    # The clip: 16-bit samples; librosa.load(sr=16000) of these files is exactly clip / 32768.
    pcm, sr = sf.read(str(DATA / CLIP), dtype="int16")
    assert sr == SR and pcm.ndim == 1
    clip = pcm[CLIP_START:CLIP_START + CLIP_LEN]
    wav = clip.astype(np.float32) / 32768
    loaded = librosa.load(str(DATA / CLIP), sr=SR)[0][CLIP_START:CLIP_START + CLIP_LEN]
    assert np.array_equal(loaded, wav)

    mel = melspectrogram(wav)
    assert mel.shape == (N_MELS, 1 + CLIP_LEN // HOP)

    nz = np.flatnonzero(basis)
    linear = mel_to_linear(mel[:, LINEAR_FRAMES]).T

    # A made-up spectrogram for the inverse STFT, imaginary parts at DC and Nyquist included.
    k = np.arange(N_FFT // 2 + 1)[:, None]
    t = np.arange(7)[None, :]
    spec = np.cos(0.1 * k * t + 0.3 * k) / (1 + 0.01 * k) + 1j * np.sin(0.07 * k + 0.5 * t)
    istft_out = istft(spec)
    assert istft_out.shape == (HOP * 6,)

    # Griffin-Lim as RTVC's inv_mel_spectrogram, from a reproducible initial phase.
    magnitude = mel_to_linear(mel[:, :GL_FRAMES]) ** POWER
    t = np.arange(GL_FRAMES)[None, :]
    phase = 2 * np.pi * ((k * 7919 + t * 104729) % 1000) / 1000
    target = np.abs(magnitude).astype(complex)
    y = istft(target * np.exp(1j * phase))
    for _ in range(GL_ITERS):
        y = istft(target * np.exp(1j * np.angle(stft(y))))
    gl_out = signal.lfilter([1], [1, -PREEMPHASIS], y)
    assert gl_out.shape == (HOP * (GL_FRAMES - 1),)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    arrays = dict(
        clip=clip.astype(np.int16),
        mel=mel.astype(np.float32),
        basis_index=nz.astype(np.int64),
        basis_value=basis.flat[nz].astype(np.float32),
        basis_row_sums=basis.astype(np.float64).sum(axis=1),
        pinv_rows=np.array(PINV_ROWS, dtype=np.int64),
        pinv64_rows=pinv64[PINV_ROWS],
        pinv32_rows=pinv32[PINV_ROWS],
        pinv64_row_sums=pinv64.sum(axis=1),
        pinv64_col_sums=pinv64.sum(axis=0),
        linear_frames=np.array(LINEAR_FRAMES, dtype=np.int64),
        linear=linear,
        istft_out=istft_out,
        gl_frames=np.array(GL_FRAMES, dtype=np.int64),
        gl_iters=np.array(GL_ITERS, dtype=np.int64),
        gl_out=gl_out.astype(np.float32),
    )
    # C order throughout: candle's npy reader does not take Fortran-ordered arrays.
    np.savez(OUT, **{name: np.ascontiguousarray(a) for name, a in arrays.items()})
    sv = np.linalg.svd(basis.astype(np.float64), compute_uv=False)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes); librosa {librosa.__version__}, "
          f"numpy {np.__version__}; basis nnz {nz.size}, singular values "
          f"{sv.min():.6g}..{sv.max():.6g} (full row rank, condition {sv.max() / sv.min():.3g}); "
          f"|pinv32 - pinv64| max {np.abs(pinv32 - pinv64).max():.3g}")


if __name__ == "__main__":
    ensure_venv()
    main()
