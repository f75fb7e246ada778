//! Kokoro-82M's phoneme vocabulary: the symbols the model reads and their token ids.
//!
//! Copied from the model's `config.json` (`vocab`, 114 symbols). Everything the front-end
//! emits is drawn from this set; [`retain_vocab`] removes anything else.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Symbol → token id, in id order. Id 0 is the pad token (`$`), added around each chunk by the
/// model, not part of this table.
pub const KOKORO_VOCAB: [(char, u32); 114] = [
    (';', 1),        // U+003B
    (':', 2),        // U+003A
    (',', 3),        // U+002C
    ('.', 4),        // U+002E
    ('!', 5),        // U+0021
    ('?', 6),        // U+003F
    ('—', 9),        // U+2014
    ('…', 10),       // U+2026
    ('"', 11),       // U+0022
    ('(', 12),       // U+0028
    (')', 13),       // U+0029
    ('“', 14),       // U+201C
    ('”', 15),       // U+201D
    (' ', 16),       // U+0020
    ('\u{303}', 17), // U+0303
    ('ʣ', 18),       // U+02A3
    ('ʥ', 19),       // U+02A5
    ('ʦ', 20),       // U+02A6
    ('ʨ', 21),       // U+02A8
    ('ᵝ', 22),       // U+1D5D
    ('ꭧ', 23),       // U+AB67
    ('A', 24),       // U+0041
    ('I', 25),       // U+0049
    ('O', 31),       // U+004F
    ('Q', 33),       // U+0051
    ('S', 35),       // U+0053
    ('T', 36),       // U+0054
    ('W', 39),       // U+0057
    ('Y', 41),       // U+0059
    ('ᵊ', 42),       // U+1D4A
    ('a', 43),       // U+0061
    ('b', 44),       // U+0062
    ('c', 45),       // U+0063
    ('d', 46),       // U+0064
    ('e', 47),       // U+0065
    ('f', 48),       // U+0066
    ('h', 50),       // U+0068
    ('i', 51),       // U+0069
    ('j', 52),       // U+006A
    ('k', 53),       // U+006B
    ('l', 54),       // U+006C
    ('m', 55),       // U+006D
    ('n', 56),       // U+006E
    ('o', 57),       // U+006F
    ('p', 58),       // U+0070
    ('q', 59),       // U+0071
    ('r', 60),       // U+0072
    ('s', 61),       // U+0073
    ('t', 62),       // U+0074
    ('u', 63),       // U+0075
    ('v', 64),       // U+0076
    ('w', 65),       // U+0077
    ('x', 66),       // U+0078
    ('y', 67),       // U+0079
    ('z', 68),       // U+007A
    ('ɑ', 69),       // U+0251
    ('ɐ', 70),       // U+0250
    ('ɒ', 71),       // U+0252
    ('æ', 72),       // U+00E6
    ('β', 75),       // U+03B2
    ('ɔ', 76),       // U+0254
    ('ɕ', 77),       // U+0255
    ('ç', 78),       // U+00E7
    ('ɖ', 80),       // U+0256
    ('ð', 81),       // U+00F0
    ('ʤ', 82),       // U+02A4
    ('ə', 83),       // U+0259
    ('ɚ', 85),       // U+025A
    ('ɛ', 86),       // U+025B
    ('ɜ', 87),       // U+025C
    ('ɟ', 90),       // U+025F
    ('ɡ', 92),       // U+0261
    ('ɥ', 99),       // U+0265
    ('ɨ', 101),      // U+0268
    ('ɪ', 102),      // U+026A
    ('ʝ', 103),      // U+029D
    ('ɯ', 110),      // U+026F
    ('ɰ', 111),      // U+0270
    ('ŋ', 112),      // U+014B
    ('ɳ', 113),      // U+0273
    ('ɲ', 114),      // U+0272
    ('ɴ', 115),      // U+0274
    ('ø', 116),      // U+00F8
    ('ɸ', 118),      // U+0278
    ('θ', 119),      // U+03B8
    ('œ', 120),      // U+0153
    ('ɹ', 123),      // U+0279
    ('ɾ', 125),      // U+027E
    ('ɻ', 126),      // U+027B
    ('ʁ', 128),      // U+0281
    ('ɽ', 129),      // U+027D
    ('ʂ', 130),      // U+0282
    ('ʃ', 131),      // U+0283
    ('ʈ', 132),      // U+0288
    ('ʧ', 133),      // U+02A7
    ('ʊ', 135),      // U+028A
    ('ʋ', 136),      // U+028B
    ('ʌ', 138),      // U+028C
    ('ɣ', 139),      // U+0263
    ('ɤ', 140),      // U+0264
    ('χ', 142),      // U+03C7
    ('ʎ', 143),      // U+028E
    ('ʒ', 147),      // U+0292
    ('ʔ', 148),      // U+0294
    ('ˈ', 156),      // U+02C8
    ('ˌ', 157),      // U+02CC
    ('ː', 158),      // U+02D0
    ('ʰ', 162),      // U+02B0
    ('ʲ', 164),      // U+02B2
    ('↓', 169),      // U+2193
    ('→', 171),      // U+2192
    ('↗', 172),      // U+2197
    ('↘', 173),      // U+2198
    ('ᵻ', 177),      // U+1D7B
];

/// The token id of `symbol`, or `None` when the model does not know it.
pub fn token_id(symbol: char) -> Option<u32> {
    static IDS: OnceLock<HashMap<char, u32>> = OnceLock::new();
    IDS.get_or_init(|| KOKORO_VOCAB.iter().copied().collect())
        .get(&symbol)
        .copied()
}

/// Whether the model knows `symbol`.
pub fn in_vocab(symbol: char) -> bool {
    token_id(symbol).is_some()
}

/// `phonemes` without the symbols the model does not know.
pub fn retain_vocab(phonemes: &str) -> String {
    phonemes.chars().filter(|&c| in_vocab(c)).collect()
}

/// Token ids of `phonemes`; unknown symbols are skipped.
pub fn token_ids(phonemes: &str) -> Vec<u32> {
    phonemes.chars().filter_map(token_id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocab_has_114_distinct_symbols() {
        let mut symbols: Vec<char> = KOKORO_VOCAB.iter().map(|&(c, _)| c).collect();
        symbols.sort_unstable();
        symbols.dedup();
        assert_eq!(symbols.len(), 114);
    }

    #[test]
    fn ids_match_the_model_config() {
        assert_eq!(token_id(';'), Some(1));
        assert_eq!(token_id(' '), Some(16));
        assert_eq!(token_id('A'), Some(24));
        assert_eq!(token_id('ˈ'), Some(156));
        assert_eq!(token_id('ᵻ'), Some(177));
        assert_eq!(token_id('$'), None);
        assert_eq!(token_id('ɝ'), None);
    }

    #[test]
    fn retain_vocab_drops_unknown_symbols() {
        assert_eq!(retain_vocab("həlˈO❓ wˈɜɹld!"), "həlˈO wˈɜɹld!");
    }
}
