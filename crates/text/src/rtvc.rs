//! Text front-end of Real-Time-Voice-Cloning's Tacotron synthesizer.
//!
//! Real-Time-Voice-Cloning (RTVC, Corentin Jemine) feeds its Tacotron characters, not phonemes,
//! after the `english_cleaners` of keithito's Tacotron: transliterate to ASCII, lower-case,
//! spell numbers (as the Python `inflect` library writes them), expand a few abbreviations,
//! collapse whitespace. [`text_to_sequence`] then maps each character to its index in
//! [`SYMBOLS`] and closes the sequence with [`EOS_ID`].
//!
//! ```
//! use voxclone_text::rtvc;
//! assert_eq!(rtvc::english_cleaners("Dr. Smith paid $1.50 in 1984."),
//!            "doctor smith paid one dollar, fifty cents in nineteen eighty-four.");
//! assert_eq!(rtvc::text_to_sequence(" Hi! "), vec![35, 36, 54, rtvc::EOS_ID]);
//! ```
//!
//! This is an independent implementation of the behaviour of RTVC's
//! `synthesizer/utils/{cleaners,numbers,symbols,text}.py` with inflect 5.3.0 and Unidecode
//! 1.3.2, checked case by case against them by `tests/rtvc_cleaners.rs` (golden data from
//! `scripts/golden_rtvc_text.py`). Quirks of the original are kept on purpose, since the
//! model was trained on them: "£" becomes "ps" (Unidecode runs before the pound rule could
//! see it), "$1.5" is "one dollar, five cents", "101st" is "one hundred and first" while
//! "101" is "one hundred one", and `{...}` groups (ARPAbet in RTVC) produce nothing.
//!
//! Known differences from RTVC:
//! * Transliteration uses the `deunicode` crate, not Unidecode, corrected where the two
//!   disagree in ways that matter for English text (see `unidecode_override`). Checked
//!   character by character against Unidecode 1.3.2, the result is identical for all of
//!   U+0000–U+024F (ASCII, Latin-1, Latin Extended-A/B: accents, “ ” ‘ ’ « », ß Æ Ø Ł ...),
//!   General Punctuation (— – … and the like), Hangul, and the emoji and pictograph blocks
//!   (dropped, where deunicode would name them "grinning"). It still differs for a few
//!   percent of other characters: rare Greek and Cyrillic letters (Ukrainian Є is "E", not
//!   "Ie"), letterlike symbols (℃ is "C", not nothing), arrows and mathematical operators,
//!   enclosed alphanumerics, Braille, about 1.5% of CJK ideographs, historic scripts.
//! * Where RTVC raises an exception (a number of more than 36 digits, "$,5") this module
//!   answers: such a number is read digit by digit, stray commas in an amount are ignored.

use crate::numbers::{ONES, TENS};
use regex::{Captures, Regex};
use std::sync::LazyLock;

/// The symbols Tacotron knows, in id order: padding `_`, end of sequence `~`, then the
/// characters of cleaned text. A symbol's id is its byte offset (all are ASCII).
pub const SYMBOLS: &str = "_~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!'\"(),-.:;? ";
/// Id of the padding symbol `_`.
pub const PAD_ID: u32 = 0;
/// Id of the end-of-sequence symbol `~`, appended by [`text_to_sequence`].
pub const EOS_ID: u32 = 1;

/// Number of symbols in [`SYMBOLS`] (66): the size of Tacotron's character embedding.
pub fn num_symbols() -> usize {
    SYMBOLS.len()
}

/// The id of a character of cleaned text, or `None` when Tacotron has no such symbol. Padding
/// and end of sequence are markers, not text, so they have no id here either.
fn symbol_id(c: char) -> Option<u32> {
    if c == '_' || c == '~' {
        return None;
    }
    SYMBOLS.find(c).map(|i| i as u32)
}

/// Ids for `text` as RTVC's synthesizer computes them: strip the text (Python's `str.strip`),
/// clean each stretch outside `{...}` with [`english_cleaners`], keep characters that are in
/// [`SYMBOLS`], append [`EOS_ID`].
pub fn text_to_sequence(text: &str) -> Vec<u32> {
    let mut ids = Vec::new();
    let mut rest = text.trim_matches(is_python_space);
    while !rest.is_empty() {
        let Some((before, after)) = split_braces(rest) else {
            push_ids(&mut ids, &english_cleaners(rest));
            break;
        };
        // Braces hold ARPAbet in RTVC, mapped to "@" symbols its table lacks: nothing is kept.
        push_ids(&mut ids, &english_cleaners(before));
        rest = after;
    }
    ids.push(EOS_ID);
    ids
}

fn push_ids(ids: &mut Vec<u32>, cleaned: &str) {
    ids.extend(cleaned.chars().filter_map(symbol_id));
}

/// Finds the first `{...}` group as RTVC's pattern `(.*?)\{(.+?)\}(.*)` does and returns the
/// text before it and the text after it. That pattern's `.` stops at a line feed, so only a
/// group on the first line counts, it must hold at least one character, and the text after
/// it ends at the line's end: later lines are lost, as in RTVC.
fn split_braces(text: &str) -> Option<(&str, &str)> {
    let line = &text[..text.find('\n').unwrap_or(text.len())];
    for (open, _) in line.match_indices('{') {
        let inner = &line[open + 1..];
        let Some(first) = inner.chars().next() else {
            break;
        };
        let search_from = open + 1 + first.len_utf8();
        if let Some(close) = line[search_from..].find('}') {
            return Some((&text[..open], &line[search_from + close + 1..]));
        }
    }
    None
}

/// keithito's `english_cleaners` as RTVC runs it: ASCII transliteration, lower case, numbers
/// spelled out, abbreviations expanded, each run of whitespace made one space. The text is
/// not stripped; [`text_to_sequence`] does that.
pub fn english_cleaners(text: &str) -> String {
    let text = to_ascii(text).to_ascii_lowercase();
    let text = expand_numbers(&text);
    let text = expand_abbreviations(&text);
    collapse_whitespace(&text)
}

/// Python's `str.isspace`: Unicode white space plus the ASCII separators U+001C–U+001F, which
/// Rust's `char::is_whitespace` leaves out.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if is_python_space(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Transliteration
// ---------------------------------------------------------------------------------------

/// ASCII transliteration standing in for Unidecode: character by character (Unidecode has no
/// context rules, so deunicode's trimming of spaces between characters is not used), with
/// the corrections listed in the module documentation.
fn to_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            // Unidecode passes all of ASCII through, DEL and control characters included.
            out.push(c);
        } else if let Some(s) = unidecode_override(c) {
            out.push_str(s);
        } else if is_pictograph(c) {
            // Unidecode has nothing for emoji and pictographs; deunicode names them ("grinning").
        } else if let Some(s) = deunicode::deunicode_char(c) {
            out.push_str(s);
        }
        // A character neither knows is dropped, as Unidecode drops it.
    }
    out
}

/// Characters where deunicode's spelling would change what Tacotron says compared with
/// Unidecode's. Spaces matter: "1½" must stay two numbers, "one one/two".
fn unidecode_override(c: char) -> Option<&'static str> {
    Some(match c {
        '¼' => " 1/4 ",
        '½' => " 1/2 ",
        '¾' => " 3/4 ",
        '⅐' => " 1/7 ",
        '⅑' => " 1/9 ",
        '⅒' => " 1/10 ",
        '⅓' => " 1/3 ",
        '⅔' => " 2/3 ",
        '⅕' => " 1/5 ",
        '⅖' => " 2/5 ",
        '⅗' => " 3/5 ",
        '⅘' => " 4/5 ",
        '⅙' => " 1/6 ",
        '⅚' => " 5/6 ",
        '⅛' => " 1/8 ",
        '⅜' => " 3/8 ",
        '⅝' => " 5/8 ",
        '⅞' => " 7/8 ",
        '↉' => " 0/3 ",
        '™' => "(tm)",
        '℠' => "(sm)",
        '№' => "No. ",
        '℅' => " c/o ",
        // Rare letters and punctuation Unidecode reads differently or not at all; with these,
        // U+0000–U+024F and U+2000–U+206F transliterate exactly as Unidecode 1.3.2 does.
        '⁊' => "&",
        '⁒' => "%",
        'Ɂ' | 'ɂ' | '\u{204F}'..='\u{2051}' | '\u{2054}'..='\u{2056}' | '\u{2058}'..='\u{205E}' => {
            ""
        }
        // The few pictographs Unidecode does read: dingbat and ornamental punctuation.
        '♯' => "#",
        '✱' => "*",
        '❘' => "|",
        '❜' => "'",
        '❝' | '❞' | '🙶' | '🙷' => "\"",
        '❟' => ",",
        '❠' | '🙸' => ",,",
        '❢' => "!",
        '🙰'..='🙳' => "et",
        '🙴' | '🙵' => "&",
        '🙹'..='🙻' => "!?",
        _ => return None,
    })
}

/// Blocks of emoji and pictographs, for which deunicode gives names or look-alike symbols and
/// Unidecode nothing (its few exceptions are in [`unidecode_override`]).
fn is_pictograph(c: char) -> bool {
    matches!(c,
        '\u{2600}'..='\u{27BF}'      // miscellaneous symbols, dingbats
        | '\u{2B00}'..='\u{2BFF}'    // miscellaneous symbols and arrows
        | '\u{1F000}'..='\u{1F0FF}'  // mahjong, domino, playing cards
        | '\u{1F1E6}'..='\u{1F1FF}'  // regional indicators (flags)
        | '\u{1F300}'..='\u{1FBFF}') // emoji, symbols for legacy computing
}

// ---------------------------------------------------------------------------------------
// Numbers (RTVC's normalize_numbers, with inflect's number_to_words)
// ---------------------------------------------------------------------------------------

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid pattern")
}

// The passes, in RTVC's order. Each is a leftmost-first scan like Python's re.sub.
static DIGITS_WITH_COMMAS: LazyLock<Regex> = LazyLock::new(|| regex(r"[0-9][0-9,]+[0-9]"));
static DOLLARS: LazyLock<Regex> = LazyLock::new(|| regex(r"\$([0-9.,]*[0-9]+)"));
static DECIMAL: LazyLock<Regex> = LazyLock::new(|| regex(r"[0-9]+\.[0-9]+"));
static ORDINAL: LazyLock<Regex> = LazyLock::new(|| regex(r"([0-9]+)(?:st|nd|rd|th)"));
static DIGITS: LazyLock<Regex> = LazyLock::new(|| regex(r"[0-9]+"));

fn expand_numbers(text: &str) -> String {
    let text = DIGITS_WITH_COMMAS.replace_all(text, |c: &Captures| c[0].replace(',', ""));
    // RTVC has a "£" rule here, but its text is already ASCII ("£" is "PS"): it never fires.
    let text = DOLLARS.replace_all(&text, |c: &Captures| spell_dollars(&c[1]));
    let text = DECIMAL.replace_all(&text, |c: &Captures| c[0].replace('.', " point "));
    // Any of the four suffixes makes an ordinal ("2th" is "second").
    let text = ORDINAL.replace_all(&text, |c: &Captures| ordinal(&cardinal(&c[1], "and")));
    let text = DIGITS.replace_all(&text, |c: &Captures| spell_number(&c[0]));
    text.into_owned()
}

/// An amount after "$" (digits, dots, commas), in words-to-be: "1.50" → "1 dollar, 50 cents".
/// The numbers themselves are spelled by the later passes.
fn spell_dollars(amount: &str) -> String {
    let parts: Vec<&str> = amount.split('.').collect();
    if parts.len() > 2 {
        return format!("{amount} dollars"); // not an amount RTVC understands
    }
    // "1.5" is one dollar and five cents in RTVC: the part after the dot is read as an integer.
    let dollars = integer(parts[0]);
    let cents = parts.get(1).map_or_else(String::new, |p| integer(p));
    let with_unit = |n: &str, unit: &str| {
        let plural = if n == "1" { "" } else { "s" };
        format!("{n} {unit}{plural}")
    };
    match (dollars.is_empty(), cents.is_empty()) {
        (false, false) => format!(
            "{}, {}",
            with_unit(&dollars, "dollar"),
            with_unit(&cents, "cent")
        ),
        (false, true) => with_unit(&dollars, "dollar"),
        (true, false) => with_unit(&cents, "cent"),
        (true, true) => "zero dollars".to_owned(),
    }
}

/// Digits as Python's `str(int(...))` prints them, but empty for zero. Commas, on which RTVC
/// would fail, are skipped.
fn integer(digits: &str) -> String {
    let digits: String = digits.chars().filter(|&c| c != ',').collect();
    digits.trim_start_matches('0').to_owned()
}

/// A run of digits: years 1001–2999 in pairs, anything else as a cardinal without "and".
fn spell_number(digits: &str) -> String {
    let digits = digits.trim_start_matches('0');
    let value: u32 = match digits.len() {
        0 => 0,
        1..=4 => digits.parse().expect("digits"),
        _ => u32::MAX,
    };
    if !(1001..=2999).contains(&value) {
        return cardinal(digits, "");
    }
    match value {
        2000 => "two thousand".to_owned(),
        2001..=2009 => format!("two thousand {}", ONES[(value % 10) as usize]),
        _ if value.is_multiple_of(100) => format!("{} hundred", below_hundred(value / 100)),
        // "nineteen eighty-four", "ten oh five".
        _ => format!("{} {}", below_hundred(value / 100), year_pair(value % 100)),
    }
}

/// The second half of a year: "oh five" below ten, as inflect's `zero="oh"` writes it.
fn year_pair(n: u32) -> String {
    if n < 10 {
        format!("oh {}", ONES[n as usize])
    } else {
        below_hundred(n)
    }
}

/// inflect's scale words; a number needing more than these makes it raise.
const SCALES: [&str; 12] = [
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
    "sextillion",
    "septillion",
    "octillion",
    "nonillion",
    "decillion",
];

/// 1–99 in words, hyphenated: "forty-two".
fn below_hundred(n: u32) -> String {
    match n {
        0..=19 => ONES[n as usize].to_owned(),
        _ if n.is_multiple_of(10) => TENS[n as usize / 10].to_owned(),
        _ => format!("{}-{}", TENS[n as usize / 10], ONES[n as usize % 10]),
    }
}

/// inflect's `number_to_words` for a run of digits, with `and` as its `andword` (RTVC passes
/// "" for plain numbers but keeps inflect's default "and" for ordinals). Groups of three
/// digits are joined with ", "; the word `and` goes inside a group ("one hundred and one")
/// and, in place of the comma, before a last group that is one word ("one thousand and
/// one"); with an empty `and` only a space is left.
fn cardinal(digits: &str, and: &str) -> String {
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return "zero".to_owned();
    }
    if digits.len() > 3 * SCALES.len() {
        // RTVC raises here; read the digits one by one instead.
        let words: Vec<&str> = digits
            .bytes()
            .map(|d| {
                if d == b'0' {
                    "zero"
                } else {
                    ONES[(d - b'0') as usize]
                }
            })
            .collect();
        return words.join(" ");
    }
    let joiner = |word: &str| {
        if word.is_empty() {
            " ".to_owned()
        } else {
            format!(" {word} ")
        }
    };
    let mut groups: Vec<String> = Vec::new();
    let mut last_is_one_word = false;
    let n_groups = digits.len().div_ceil(3);
    for scale in (0..n_groups).rev() {
        let end = digits.len() - 3 * scale;
        let value: u32 = digits[end.saturating_sub(3)..end].parse().expect("digits");
        if value == 0 {
            continue; // "one million", not "one million, zero thousand"
        }
        let (hundreds, rest) = (value / 100, value % 100);
        let mut words = match (hundreds, rest) {
            (0, _) => below_hundred(rest),
            (_, 0) => format!("{} hundred", ONES[hundreds as usize]),
            _ => format!(
                "{} hundred{}{}",
                ONES[hundreds as usize],
                joiner(and),
                below_hundred(rest)
            ),
        };
        if scale > 0 {
            words.push(' ');
            words.push_str(SCALES[scale]);
        }
        last_is_one_word = scale == 0 && hundreds == 0;
        groups.push(words);
    }
    let last = groups.pop().expect("a non-zero number has a group");
    if groups.is_empty() {
        last
    } else if last_is_one_word {
        format!("{}{}{last}", groups.join(", "), joiner(and))
    } else {
        format!("{}, {last}", groups.join(", "))
    }
}

/// The ordinal of a cardinal in words, changing its last word as inflect does:
/// "twenty" → "twentieth", "twenty-one" → "twenty-first", "seven" → "seventh".
fn ordinal(cardinal: &str) -> String {
    const IRREGULAR: [(&str, &str); 8] = [
        ("ty", "tieth"),
        ("one", "first"),
        ("two", "second"),
        ("three", "third"),
        ("five", "fifth"),
        ("eight", "eighth"),
        ("nine", "ninth"),
        ("twelve", "twelfth"),
    ];
    for (end, replacement) in IRREGULAR {
        if let Some(stem) = cardinal.strip_suffix(end) {
            return format!("{stem}{replacement}");
        }
    }
    format!("{cardinal}th")
}

// ---------------------------------------------------------------------------------------
// Abbreviations
// ---------------------------------------------------------------------------------------

/// keithito's abbreviations, applied one after the other in this order, each where the
/// abbreviation starts a word and is followed by a full stop.
const ABBREVIATIONS: [(&str, &str); 18] = [
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
];

static ABBREVIATION_RES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    ABBREVIATIONS
        .iter()
        .map(|&(short, long)| (regex(&format!(r"(?i)\b{short}\.")), long))
        .collect()
});

fn expand_abbreviations(text: &str) -> String {
    let mut text = text.to_owned();
    for (re, long) in ABBREVIATION_RES.iter() {
        // `NoExpand`: the replacement is literal text.
        text = re.replace_all(&text, regex::NoExpand(long)).into_owned();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_table() {
        assert_eq!(num_symbols(), 66);
        assert_eq!(symbol_id('A'), Some(2));
        assert_eq!(symbol_id('a'), Some(28));
        assert_eq!(symbol_id(' '), Some(65));
        assert_eq!(symbol_id('_'), None);
        assert_eq!(symbol_id('~'), None);
        assert_eq!(symbol_id('{'), None);
    }

    #[test]
    fn cardinals() {
        assert_eq!(cardinal("0", ""), "zero");
        assert_eq!(cardinal("101", ""), "one hundred one");
        assert_eq!(cardinal("101", "and"), "one hundred and one");
        assert_eq!(cardinal("3001", ""), "three thousand one");
        assert_eq!(cardinal("3001", "and"), "three thousand and one");
        assert_eq!(cardinal("3100", "and"), "three thousand, one hundred");
        assert_eq!(cardinal("1000021", ""), "one million twenty-one");
        assert_eq!(cardinal("1100000", ""), "one million, one hundred thousand");
        assert_eq!(cardinal(&"9".repeat(37), "").split(' ').count(), 37);
    }

    #[test]
    fn ordinals() {
        assert_eq!(ordinal("twenty"), "twentieth");
        assert_eq!(ordinal("nineteen"), "nineteenth");
        assert_eq!(ordinal("one hundred and twelve"), "one hundred and twelfth");
        assert_eq!(ordinal("zero"), "zeroth");
    }

    #[test]
    fn braces() {
        assert_eq!(split_braces("a {B} c"), Some(("a ", " c")));
        assert_eq!(split_braces("a {} c"), None);
        assert_eq!(split_braces("a {}} c"), Some(("a ", " c")));
        assert_eq!(split_braces("a\n{B}"), None);
        assert_eq!(split_braces("{B}x\ny"), Some(("", "x")));
    }
}
