//! Sentence splitting of raw (not yet normalised) English text.
//!
//! A sentence ends at `.`, `!`, `?` or `…` (with any closing quotes or brackets after it)
//! followed by white space and then something that can start a sentence, and at every blank
//! line. A period does not end a sentence after a known abbreviation ("Dr.", "e.g."), an
//! initial ("J. Smith"), a dotted acronym followed by a lower-case word, inside a number
//! ("3.5"), or before a lower-case word. Sentences longer than [`MAX_SENTENCE_BYTES`] are cut
//! at a clause mark or a space, so that long unpunctuated text still streams.
//!
//! [`sentences`] is an iterator that never looks further ahead than the sentence it returns:
//! splitting is linear in the text.

/// Longest sentence returned, in bytes; longer runs are cut at a clause mark or a space.
pub const MAX_SENTENCE_BYTES: usize = 2000;

/// Abbreviations that come before what they qualify ("Dr. Smith", "Jan. 5", "e.g. this"): their
/// period never ends a sentence (compared case-insensitively, without the dot).
const ABBREVIATIONS: &[&str] = &[
    "dr", "mr", "mrs", "ms", "prof", "st", "vs", "mt", "dept", "gen", "gov", "sen", "rep", "capt",
    "sgt", "lt", "col", "rev", "fig", "no", "vol", "ch", "pp", "approx", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "cf",
];
/// Abbreviations that can end a sentence ("… Apple Inc. The company …"): only before a
/// capital.
const FINAL_ABBREVIATIONS: &[&str] = &[
    "jr", "sr", "inc", "ltd", "corp", "co", "etc", "esq", "al", "ave", "blvd", "rd", "est",
];
/// Dotted acronyms that mostly stand before a capitalised name ("the U.S. Army").
const NAME_ACRONYMS: &[&str] = &["u.s", "u.k", "u.n", "e.u"];

/// The sentences of `text`, as slices of it, trimmed, without empty ones.
pub fn sentences(text: &str) -> Sentences<'_> {
    Sentences { rest: text }
}

/// Iterator returned by [`sentences`].
#[derive(Debug, Clone)]
pub struct Sentences<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Sentences<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let text = self.rest.trim_start();
            if text.is_empty() {
                self.rest = text;
                return None;
            }
            let end = sentence_end(text);
            let (sentence, rest) = text.split_at(end);
            self.rest = rest;
            let sentence = sentence.trim();
            if !sentence.is_empty() {
                return Some(sentence);
            }
        }
    }
}

/// Byte length of the first sentence of `text` (which starts with a non-space).
fn sentence_end(text: &str) -> usize {
    let limit = floor_char_boundary(text, MAX_SENTENCE_BYTES.min(text.len()));
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if i >= limit && limit < text.len() {
            return cut_long(text, limit);
        }
        match c {
            '\n' => {
                // A blank line ends a paragraph, hence a sentence.
                let after = &text[i + 1..];
                let trimmed = after.trim_start_matches([' ', '\t', '\r']);
                if trimmed.starts_with('\n') {
                    return i;
                }
            }
            '.' | '!' | '?' | '…' => {
                // Take the whole run of terminators and closers: `?!`, `..."`, `.)`.
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = iter.peek() {
                    if matches!(
                        d,
                        '.' | '!' | '?' | '…' | '"' | '”' | '’' | '\'' | ')' | ']'
                    ) {
                        end = j + d.len_utf8();
                        iter.next();
                    } else {
                        break;
                    }
                }
                let after = &text[end..];
                if after.is_empty() {
                    return end;
                }
                if !after.starts_with(char::is_whitespace) {
                    continue;
                }
                if c == '.' && end == i + 1 && !period_ends_sentence(&text[..i], after) {
                    continue;
                }
                let next_word = after.trim_start();
                if next_word.starts_with(|n: char| n.is_lowercase()) {
                    continue;
                }
                return end;
            }
            _ => {}
        }
    }
    text.len()
}

/// Whether a period after `before`, followed by `after` (which starts with white space),
/// ends a sentence.
fn period_ends_sentence(before: &str, after: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"' || c == '“')
        .next()
        .unwrap_or("");
    let next_is_capital = after
        .trim_start()
        .starts_with(|c: char| c.is_uppercase() || c == '"' || c == '“');
    if word.is_empty() {
        return true;
    }
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    // "J. Smith": a single capital letter is an initial.
    if word.chars().count() == 1 && word.chars().all(|c| c.is_uppercase()) {
        return false;
    }
    // A dotted acronym ("p.m.", "U.S.") or a final abbreviation ends a sentence only before a
    // capital, and "U.S." not even then.
    if word.contains('.') && word.chars().all(|c| c.is_alphabetic() || c == '.') {
        return next_is_capital && !NAME_ACRONYMS.contains(&lower.as_str());
    }
    if FINAL_ABBREVIATIONS.contains(&lower.as_str()) {
        return next_is_capital;
    }
    true
}

/// Cuts an overlong sentence at the last clause mark, else the last space, before `limit`.
fn cut_long(text: &str, limit: usize) -> usize {
    let head = &text[..limit];
    if let Some(p) = head.rfind([',', ';', ':', '—']) {
        if p > limit / 2 {
            return p + head[p..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if let Some(p) = head.rfind(char::is_whitespace) {
        if p > 0 {
            return p;
        }
    }
    limit
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        sentences(text).collect()
    }

    #[test]
    fn splits_at_terminators() {
        assert_eq!(
            split("Hello there. How are you? I'm fine! Really…  Yes."),
            [
                "Hello there.",
                "How are you?",
                "I'm fine!",
                "Really…",
                "Yes."
            ]
        );
    }

    #[test]
    fn keeps_abbreviations_numbers_and_initials() {
        for text in [
            "Dr. Smith arrived at 3.5 km.",
            "Mr. and Mrs. Jones met J. R. R. Tolkien.",
            "It costs $3.50 today.",
            "Fruit, e.g. apples, are good.",
            "The meeting is on Jan. 5, 2024.",
            "Wait... what happened?",
            "He said no. and left",
            "The U.S. Army arrived.",
            "Smith Jr. was late.",
        ] {
            assert_eq!(split(text), [text], "{text}");
        }
        for (text, want) in [
            (
                "We met at 5 p.m. Then we left.",
                ["We met at 5 p.m.", "Then we left."],
            ),
            (
                "I work at Apple Inc. The pay is good.",
                ["I work at Apple Inc.", "The pay is good."],
            ),
            (
                "Pears, apples, etc. Then more.",
                ["Pears, apples, etc.", "Then more."],
            ),
        ] {
            assert_eq!(split(text), want, "{text}");
        }
    }

    #[test]
    fn quotes_and_brackets_stay_with_their_sentence() {
        assert_eq!(
            split("\"Stop!\" she cried. (It was late.) We left."),
            ["\"Stop!\" she cried.", "(It was late.)", "We left."]
        );
    }

    #[test]
    fn blank_lines_end_sentences_single_newlines_do_not() {
        assert_eq!(
            split("A title\n\nThe text goes\non here.\n \nEnd"),
            ["A title", "The text goes\non here.", "End"]
        );
    }

    #[test]
    fn overlong_sentences_are_cut() {
        let text = "word ".repeat(1000);
        let parts = split(&text);
        assert!(parts.len() >= 3);
        assert!(parts.iter().all(|p| p.len() <= MAX_SENTENCE_BYTES));
        let words: usize = parts.iter().map(|p| p.split_whitespace().count()).sum();
        assert_eq!(words, 1000);
        let unspaced = "x".repeat(5000);
        let parts = split(&unspaced);
        assert_eq!(parts.concat(), unspaced);
        let multibyte = "é".repeat(3000);
        assert_eq!(split(&multibyte).concat(), multibyte);
    }

    #[test]
    fn empty_and_blank_text() {
        assert!(split("").is_empty());
        assert!(split("  \n\n ").is_empty());
    }
}
