#!/usr/bin/env python3
"""WER of the ASR judge's transcripts with numerals read as words.

The judge (../shared/tools/asr-judge) scores text as written, so "nine" heard and written as
"9" counts as a wrong word although it was said right. Whisper's own evaluations normalise
numbers before scoring; this does the same for whole numbers up to 999 on both sides, and
keeps everything else as the judge normalises it (lower case, punctuation dropped).

    python3 scripts/wer_numerals.py LIST.tsv JUDGE_OUTPUT
LIST.tsv is the judge's input (path<TAB>expected text); JUDGE_OUTPUT its printed lines.
Prints the numerals-normalised WER and the words still wrong. Standard library only.
"""
import re
import sys

ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def spoken(n: int) -> str:
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    rest = n % 100
    return ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + spoken(rest))


def norm(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    words = []
    for w in text.split():
        words.extend(spoken(int(w)).split() if w.isdigit() and int(w) < 1000 else [w])
    return words


def edits(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions)."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def main() -> None:
    expected = {}
    for line in open(sys.argv[1], encoding="utf-8"):
        if line.strip():
            path, text = line.rstrip("\n").split("\t", 1)
            expected[path] = text
    errors = words = files = 0
    for line in open(sys.argv[2], encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 2 or parts[1] not in expected:
            continue
        ref, hyp = norm(expected[parts[1]]), norm(parts[2] if len(parts) > 2 else "")
        e = edits(ref, hyp)
        errors, words, files = errors + e, words + len(ref), files + 1
        if e:
            print(f"{e} wrong\t{parts[1]}\t{' '.join(hyp)}")
    print(f"WER with numerals as words: {errors / max(words, 1):.3f} over {files} files ({words} words)")


if __name__ == "__main__":
    main()
