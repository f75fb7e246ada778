#!/usr/bin/env python3
"""Which fallback for words the lexicons lack? Scores each on words held out of misaki's gold lexicon.

Draws N random single words (letters only, 4+ letters, one pronunciation) from us_gold.json,
asks voxclone-text's fallbacks for each (the `phonemize` example with `--fallbacks`): espeak-ng
mapped to misaki's symbols, "known parts" (a compound of two or three other gold words) and
spelling. Each is scored against the lexicon's own pronunciation with stress marks removed:
exact matches, and the phoneme error rate (edit distance over reference length). Words a
fallback cannot read count as errors of 100%.

    python3 scripts/eval_fallback.py [--n 2000] [--seed 0] [--misaki-data DIR]

Needs espeak-ng on the PATH for the espeak-ng column. No Python packages beyond the standard library.
"""

import argparse
import json
import os
import random
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def unstressed(ps):
    return ps.replace("ˈ", "").replace("ˌ", "")


def default_data_dir():
    cache = os.environ.get("VOXCLONE_CACHE")
    for d in [Path(cache) / "misaki" if cache else None, Path.home() / ".cache/voxclone/misaki",
              Path("/tmp/kk/x/misaki/data")]:
        if d and (d / "us_gold.json").exists():
            return d
    raise SystemExit("misaki lexicons not found: pass --misaki-data DIR")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--misaki-data", type=Path)
    args = ap.parse_args()
    data = args.misaki_data or default_data_dir()
    gold = json.loads((data / "us_gold.json").read_text())
    words = sorted(w for w, p in gold.items()
                   if isinstance(p, str) and w.isalpha() and w.islower() and len(w) >= 4)
    random.Random(args.seed).shuffle(words)
    words = words[:args.n]

    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", "/work/target-text")
    cmd = ["cargo", "run", "-q", "-p", "voxclone-text", "--example", "phonemize", "--",
           str(data / "us_gold.json"), str(data / "us_silver.json"), "--fallbacks"]
    out = subprocess.run(cmd, input="\n".join(words) + "\n", capture_output=True, text=True,
                         cwd=ROOT, env=env, check=True).stdout.rstrip("\n").split("\n")
    names = ["espeak-ng", "known parts", "spelling"]
    stats = {n: [0, 0, 0, 0] for n in names}  # answered, exact, edits, reference symbols
    both = [0, 0, 0]  # words known parts answers: its exact, espeak's exact, count
    for word, line in zip(words, out):
        cols = line.split("\t")
        assert cols[0] == word, (cols[0], word)
        ref = unstressed(gold[word])
        for name, ps in zip(names, cols[1:]):
            s = stats[name]
            s[3] += len(ref)
            if not ps:
                s[2] += len(ref)
                continue
            ps = unstressed(ps)
            s[0] += 1
            s[1] += ps == ref
            s[2] += min(edit_distance(ps, ref), len(ref))
        if cols[2]:
            both[0] += unstressed(cols[2]) == ref
            both[1] += unstressed(cols[1]) == ref
            both[2] += 1
    print(f"{len(words)} words held out of {data / 'us_gold.json'} (seed {args.seed}); stress ignored")
    print(f"  {'fallback':12s} {'answers':>8s} {'exact':>7s} {'phoneme error rate':>19s}")
    for name in names:
        a, e, d, n = stats[name]
        print(f"  {name:12s} {100 * a / len(words):7.1f}% {100 * e / len(words):6.1f}% {100 * d / n:18.1f}%")
    if both[2]:
        print(f"  on the {both[2]} words known parts can read: known parts exact {100 * both[0] / both[2]:.1f}%,"
              f" espeak-ng exact {100 * both[1] / both[2]:.1f}%")


if __name__ == "__main__":
    main()
