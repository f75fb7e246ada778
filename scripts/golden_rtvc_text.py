#!/usr/bin/env python3
"""Golden data for `voxclone_text::rtvc`: the text front-end of Real-Time-Voice-Cloning's
Tacotron synthesizer (keithito's `english_cleaners`, then character ids).

    python3 scripts/golden_rtvc_text.py

Makes a throwaway virtual environment (/tmp/rtvc-text-venv) with the libraries RTVC pins for
this step, inflect 5.3.0 and Unidecode 1.3.2, re-runs itself inside it, and writes
crates/text/tests/data/rtvc_cleaners.json: a list of {"input", "cleaned", "ids"} where
`cleaned` is english_cleaners(input) and `ids` is the id sequence RTVC's synthesizer feeds
Tacotron for that input (it strips the text first, and an end-of-sequence id closes it).

The pipeline below is written from RTVC's description of its behaviour
(synthesizer/utils/{cleaners,numbers,symbols,text}.py): transliterate to ASCII with
unidecode, lower-case, spell numbers with inflect, expand abbreviations, collapse whitespace.
"""

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

VENV = Path("/tmp/rtvc-text-venv")
PINS = ["inflect==5.3.0", "unidecode==1.3.2"]
OUT = Path(__file__).resolve().parent.parent / "crates/text/tests/data/rtvc_cleaners.json"


def ensure_venv_and_reexec():
    """Run this script with the venv's interpreter, creating the venv on first use."""
    python = VENV / "bin/python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not python.exists():
        venv.create(VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
    os.execv(python, [str(python), __file__, *sys.argv[1:]])


ensure_venv_and_reexec()

import inflect  # noqa: E402
from unidecode import unidecode  # noqa: E402

ENGINE = inflect.engine()

# Id table: padding, end of sequence, then the characters Tacotron was trained on.
SYMBOLS = ["_", "~"] + list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!'\"(),-.:;? ")
SYMBOL_ID = {s: i for i, s in enumerate(SYMBOLS)}
EOS_ID = SYMBOL_ID["~"]

ABBREVIATIONS = [
    ("mrs", "misess"),
    ("mr", "mister"),
    ("dr", "doctor"),
    ("st", "saint"),
    ("co", "company"),
    ("jr", "junior"),
    ("maj", "major"),
    ("gen", "general"),
    ("drs", "doctors"),
    ("rev", "reverend"),
    ("lt", "lieutenant"),
    ("hon", "honorable"),
    ("sgt", "sergeant"),
    ("capt", "captain"),
    ("esq", "esquire"),
    ("ltd", "limited"),
    ("col", "colonel"),
    ("ft", "fort"),
]
ABBREVIATION_RES = [(re.compile(r"\b" + short + r"\.", re.IGNORECASE), long) for short, long in ABBREVIATIONS]


def unit_word(count, singular):
    return singular if count == 1 else singular + "s"


def spell_dollars(m):
    amount = m.group(1)
    pieces = amount.split(".")
    if len(pieces) > 2:
        return amount + " dollars"
    dollars = int(pieces[0]) if pieces[0] else 0
    cents = int(pieces[1]) if len(pieces) == 2 and pieces[1] else 0
    said = []
    if dollars:
        said.append(f"{dollars} {unit_word(dollars, 'dollar')}")
    if cents:
        said.append(f"{cents} {unit_word(cents, 'cent')}")
    return ", ".join(said) if said else "zero dollars"


def spell_number(m):
    n = int(m.group(0))
    if not 1000 < n < 3000:
        return ENGINE.number_to_words(n, andword="")
    # Years: "two thousand", "two thousand five", "nineteen hundred", "nineteen eighty-four".
    if n == 2000:
        return "two thousand"
    if 2000 < n < 2010:
        return "two thousand " + ENGINE.number_to_words(n % 100)
    if n % 100 == 0:
        return ENGINE.number_to_words(n // 100) + " hundred"
    return ENGINE.number_to_words(n, andword="", zero="oh", group=2).replace(", ", " ")


def spell_numbers(text):
    text = re.sub(r"[0-9][0-9,]+[0-9]", lambda m: m.group(0).replace(",", ""), text)
    # RTVC also reads "£12" as "12 pounds", but unidecode has already turned "£" into "PS".
    text = re.sub(r"£([0-9,]*[0-9]+)", r"\1 pounds", text)
    text = re.sub(r"\$([0-9.,]*[0-9]+)", spell_dollars, text)
    text = re.sub(r"[0-9]+\.[0-9]+", lambda m: m.group(0).replace(".", " point "), text)
    text = re.sub(r"[0-9]+(?:st|nd|rd|th)", lambda m: ENGINE.number_to_words(m.group(0)), text)
    return re.sub(r"[0-9]+", spell_number, text)


def english_cleaners(text):
    text = unidecode(text).lower()
    text = spell_numbers(text)
    for regex, long in ABBREVIATION_RES:
        text = regex.sub(long, text)
    return re.sub(r"\s+", " ", text)


def ids_of(cleaned):
    return [SYMBOL_ID[c] for c in cleaned if c in SYMBOL_ID and c not in "_~"]


# Text before a {...} group (on the first line), the group, and the rest of that line.
BRACES = re.compile(r"(.*?)\{(.+?)\}(.*)")


def text_to_sequence(text):
    """The ids for `text` as RTVC's synthesizer computes them (after its strip())."""
    ids = []
    while text:
        m = BRACES.match(text)
        if m is None:
            ids += ids_of(english_cleaners(text))
            break
        # ARPAbet inside braces becomes "@"-symbols that are not in the table: no ids.
        ids += ids_of(english_cleaners(m.group(1)))
        text = m.group(3)
    return ids + [EOS_ID]


CASES = [
    # Plain text and punctuation.
    "Hello world.",
    "The quick brown fox jumps over the lazy dog!",
    "Is this the real life? Is this just fantasy?",
    "Wait: what; really?! (Yes.)",
    "It's a \"quoted\" word, isn't it?",
    "Semi-colons; hyphens - and dashes -- oh my.",
    "Symbols & such: 50% off, #1, a@b.com, x+y=z, under_score, tilde~, [brackets] <angle>.",
    "ALL CAPS SHOUTING",
    "",
    "   ",
    # Numbers.
    "0",
    "I have 7 cats and 13 dogs.",
    "100 and 101 and 999.",
    "1000 1001 1066 1900 1984",
    "2000 2005 2010 2019 2999 3000",
    "12345 people.",
    "A population of 1,000,000 or 1,234.",
    "Pi is about 3.14, and e is 2.718.",
    "It costs $5, or $1.50, or $0.01, or $1 exactly.",
    "Prices: $2.01, $1,000, $3.00, $.75 and $12.5.",
    "A fee of £20.",
    "He came 1st, she came 2nd, they came 23rd, and we came 101st.",
    "The 21st century, the 12th man, the 40th anniversary, the 3rd and 0th.",
    "The 1,021st and 1000th and 2000th and 1,000,003rd times.",
    "Call 555-0123 at 10:30 on 4/5.",
    "Numbers 1100 1200 2100 1005 2020 2090 9999 10000 100000 1000001.",
    "Big: 123456789 and 1,000,000,000 and 20,000,021.",
    "It is -5 degrees, 007 is 7, and 1.5.3 stays odd.",
    "In 1984, Orwell wrote about 2+2=5.",
    # Abbreviations.
    "Mr. Smith met Mrs. Jones and Dr. Who.",
    "St. Louis and Ft. Worth are cities.",
    "Acme Co. and Widgets Ltd. hired Capt. Kirk.",
    "Gen. Lee, Maj. Tom, Lt. Dan, Sgt. Pepper, Col. Sanders, Rev. Al, Hon. Member, Esq. too, Jr. and Drs. Who.",
    "mr.smith, MR. SMITH, Mr Smith, Mr.., Dr.Dr.",
    "The first st. and the 1st.",
    # Accents, dashes and quotes.
    "A café in Zürich served a naïve crème brûlée.",
    "Ångström and Øresund, façade, résumé, jalapeño.",
    "Straße, Æsop, Œuvre, Łódź.",
    "He said\u2014quietly\u2014that it\u2019s \u201cfine\u201d.",
    "\u2018Single\u2019 and \u201cdouble\u201d quotes\u2026 and an en\u2013dash.",
    "Non\u00a0breaking\u2009spaces and \u00abguillemets\u00bb.",
    "Fractions: \u00bd and 1\u00bc cups.",
    "Temperature 20\u00b0C, \u20ac30 and \u00a57.",
    "Copyright \u00a9 2021 Acme\u00ae.",
    "Acme\u2122 \u2116 5, and emoji: I love it \U0001F600\U0001F44D\U0001F3FD \u2764\ufe0f!",
    # Whitespace.
    "Multiple   spaces\tand\ttabs.",
    "Line one.\nLine two.\n\nLine three.",
    "  Leading and trailing spaces.  ",
    "\n\tIndented text\r\n",
    # ARPAbet in braces.
    "Say {HH AH0 L OW1} to the world.",
    "{HH AH0 L OW1}",
    "Turn left on {HH AW1 S T AH0 N} Street.",
    "Two {AH0} groups {B IY1} here, 3 words.",
    "Broken {brace and } close.",
    "Empty {} braces.",
    "Unclosed { brace.",
    "First line\nsecond {HH AH0} line.",
    "Before {HH AH0}after\nlost line.",
    # Mixed.
    "On Jan. 5th, 2024, Dr. Smith paid $3.50 for 2 coffees.",
    "The U.S.A. has 50 states; it's 2,000 miles wide.",
    "Apollo 11 landed on July 20th, 1969, at 20:17.",
    "Room 101, floor 13, building 2B.",
    "Version 2.0.1 released in 2019.",
]


def main():
    rows = []
    for text in CASES:
        rows.append({"input": text, "cleaned": english_cleaners(text), "ids": text_to_sequence(text.strip())})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # One case a line, so that a change shows as a one-line diff.
    lines = ",\n".join(" " + json.dumps(row, ensure_ascii=False) for row in rows)
    OUT.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    print(f"wrote {len(rows)} cases to {OUT}")


if __name__ == "__main__":
    main()
