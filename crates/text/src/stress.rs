//! Stress marks in misaki's conventions.
//!
//! Phonemes carry `ˈ` (primary) and `ˌ` (secondary) stress marks placed right before the
//! stressed vowel. A requested stress level changes a word's marks the way misaki's
//! `apply_stress` does:
//!
//! | level | effect |
//! |---|---|
//! | < -1 | remove all stress marks |
//! | -1, or 0 / -0.5 with a primary | demote: primary → secondary |
//! | 0, 0.5, 1 without marks | add a secondary before the first vowel |
//! | ≥ 1 with only secondaries | promote secondaries to primaries |
//! | > 1 without marks | add a primary before the first vowel |

/// Primary stress mark.
pub const PRIMARY: char = 'ˈ';
/// Secondary stress mark.
pub const SECONDARY: char = 'ˌ';

/// misaki's vowel symbols (US and GB).
pub fn is_vowel(c: char) -> bool {
    "AIOQWYaiuæɑɒɔəɛɜɪʊʌᵻ".contains(c)
}

/// misaki's consonant symbols.
pub fn is_consonant(c: char) -> bool {
    "bdfhjklmnpstvwzðŋɡɹɾʃʒʤʧθ".contains(c)
}

/// A stress request, in misaki's units (see the module docs).
pub type StressLevel = f32;

/// `phonemes` with its stress changed to `level` (no change for `None`).
pub fn apply_stress(phonemes: &str, level: Option<StressLevel>) -> String {
    let Some(s) = level else {
        return phonemes.to_string();
    };
    let has_primary = phonemes.contains(PRIMARY);
    let has_any = has_primary || phonemes.contains(SECONDARY);
    if s < -1.0 {
        phonemes.replace([PRIMARY, SECONDARY], "")
    } else if s == -1.0 || ((s == 0.0 || s == -0.5) && has_primary) {
        phonemes.replace(SECONDARY, "").replace(PRIMARY, "ˌ")
    } else if (s == 0.0 || s == 0.5 || s == 1.0) && !has_any {
        add_mark(phonemes, SECONDARY)
    } else if s >= 1.0 && !has_primary && has_any {
        phonemes.replace(SECONDARY, "ˈ")
    } else if s > 1.0 && !has_any {
        add_mark(phonemes, PRIMARY)
    } else {
        phonemes.to_string()
    }
}

/// Puts `mark` before the first vowel (no change without a vowel).
fn add_mark(phonemes: &str, mark: char) -> String {
    match phonemes.char_indices().find(|&(_, c)| is_vowel(c)) {
        Some((i, _)) => format!("{}{mark}{}", &phonemes[..i], &phonemes[i..]),
        None => phonemes.to_string(),
    }
}

/// Stress weight as misaki counts it: diphthongs and affricates count twice.
pub fn stress_weight(phonemes: &str) -> usize {
    phonemes
        .chars()
        .map(|c| if "AIOQWYʤʧ".contains(c) { 2 } else { 1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        for (ps, level, want) in [
            ("həlˈO", None, "həlˈO"),
            ("həlˈO", Some(-2.0), "həlO"),
            ("ˌʌndəɹstˈænd", Some(-1.0), "ʌndəɹstˌænd"),
            ("həlˈO", Some(-0.5), "həlˌO"),
            ("həlˈO", Some(0.5), "həlˈO"),
            ("ðə", Some(0.5), "ðˌə"),
            ("ðə", Some(2.0), "ðˈə"),
            ("ˌʌs", Some(2.0), "ˈʌs"),
            ("kˈæt", Some(2.0), "kˈæt"),
            ("m", Some(2.0), "m"),
        ] {
            assert_eq!(apply_stress(ps, level), want, "{ps} {level:?}");
        }
    }

    #[test]
    fn weights() {
        assert_eq!(stress_weight("ʧA"), 4);
        assert_eq!(stress_weight("kæt"), 3);
    }
}
