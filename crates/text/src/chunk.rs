//! Splitting a phoneme string into pieces that fit Kokoro's context.
//!
//! Kokoro-82M reads at most 512 tokens, two of which are the pad tokens around the phonemes,
//! so a piece holds at most [`MAX_PHONEMES`] symbols. [`split_phonemes`] cuts after sentence
//! punctuation (`. ! ? …`) if it can, else after clause punctuation (`, ; : —`), else at a
//! space, else (a single word longer than the limit) anywhere. The space a piece is cut at is
//! dropped and pieces are trimmed; every other symbol is kept, in order.

/// Most phoneme symbols Kokoro-82M reads at once: its 512-token context less two pad tokens.
pub const MAX_PHONEMES: usize = 510;

const SENTENCE_MARKS: &[char] = &['.', '!', '?', '…'];
const CLAUSE_MARKS: &[char] = &[',', ';', ':', '—'];
const CLOSERS: &[char] = &['"', '”', ')'];

/// Splits `phonemes` into pieces of at most `max` symbols (chars); `max` must be positive.
pub fn split_phonemes(phonemes: &str, max: usize) -> Vec<String> {
    assert!(max > 0, "pieces must hold at least one symbol");
    let symbols: Vec<char> = phonemes.trim().chars().collect();
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < symbols.len() {
        while start < symbols.len() && symbols[start] == ' ' {
            start += 1;
        }
        if start == symbols.len() {
            break;
        }
        let remaining = symbols.len() - start;
        let end = if remaining <= max {
            symbols.len()
        } else {
            start + cut_point(&symbols[start..start + max + 1], max)
        };
        let piece: String = symbols[start..end].iter().collect();
        let piece = piece.trim_end().to_string();
        if !piece.is_empty() {
            pieces.push(piece);
        }
        start = end;
    }
    pieces
}

/// Where to cut `window` (the next `max + 1` symbols), as the length of the first piece
/// (1..=max).
fn cut_point(window: &[char], max: usize) -> usize {
    // Cutting after `window[i]` gives a piece of length i + 1; `window[max]` is the first
    // symbol that no longer fits, which tells whether the cut at `max` is at a word boundary.
    let after_mark = |marks: &[char]| {
        (0..max).rev().find(|&i| {
            let mark = marks.contains(&window[i])
                || (CLOSERS.contains(&window[i]) && i > 0 && marks.contains(&window[i - 1]));
            mark && (window[i + 1] == ' ' || window[i + 1] == '“')
        })
    };
    if let Some(i) = after_mark(SENTENCE_MARKS).filter(|&i| i + 1 >= max / 4) {
        return i + 1;
    }
    if let Some(i) = after_mark(CLAUSE_MARKS).filter(|&i| i + 1 >= max / 4) {
        return i + 1;
    }
    if let Some(i) = (1..=max).rev().find(|&i| window[i] == ' ') {
        return i;
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn non_space(s: &str) -> String {
        s.chars().filter(|&c| c != ' ').collect()
    }

    fn check_invariants(input: &str, max: usize) -> Vec<String> {
        let pieces = split_phonemes(input, max);
        for p in &pieces {
            assert!(p.chars().count() <= max, "{p:?} is longer than {max}");
            assert!(
                !p.is_empty() && p.trim() == p,
                "{p:?} is empty or untrimmed"
            );
        }
        assert_eq!(
            non_space(&pieces.concat()),
            non_space(input),
            "symbols lost"
        );
        pieces
    }

    #[test]
    fn short_text_is_one_piece() {
        assert_eq!(check_invariants("həlˈO wˈɜɹld.", 510), ["həlˈO wˈɜɹld."]);
        assert!(check_invariants("", 510).is_empty());
        assert!(check_invariants("   ", 510).is_empty());
    }

    #[test]
    fn prefers_sentence_then_clause_then_space() {
        let pieces = check_invariants("ab cd. ef, gh ij", 12);
        assert_eq!(pieces, ["ab cd.", "ef, gh ij"]);
        let pieces = check_invariants("ab cd, ef gh ij", 11);
        assert_eq!(pieces, ["ab cd,", "ef gh ij"]);
        let pieces = check_invariants("ab cd ef gh ij", 7);
        assert_eq!(pieces, ["ab cd", "ef gh", "ij"]);
        let pieces = check_invariants("“ab cd.” ef gh", 9);
        assert_eq!(pieces, ["“ab cd.”", "ef gh"]);
    }

    #[test]
    fn an_overlong_word_is_cut_anywhere() {
        let word = "ɑ".repeat(25);
        let pieces = check_invariants(&word, 10);
        assert_eq!(pieces.len(), 3);
        check_invariants(&format!("ab {word} cd"), 10);
    }

    #[test]
    fn long_text_keeps_every_symbol() {
        let sentence = "ðə bˈɜɹʧ kˈænu slˈɪd ˌɑn ðə smˈuð plˈæŋks, ænd kˈɛpt ɡˌOɪŋ. ";
        let text = sentence.repeat(200);
        let pieces = check_invariants(&text, MAX_PHONEMES);
        assert!(pieces.iter().all(|p| p.ends_with('.')));
        let exact = "a".repeat(MAX_PHONEMES);
        assert_eq!(check_invariants(&exact, MAX_PHONEMES), [exact]);
    }
}
