//! The front door: raw English text → phoneme chunks Kokoro-82M can read.

use crate::chunk::{split_phonemes, MAX_PHONEMES};
use crate::fallback::Fallback;
use crate::g2p::G2p;
use crate::lexicon::Lexicon;
use crate::normalize::normalize;
use crate::sentences::sentences;
use crate::vocab;

/// Phonemes for one piece of text, at most [`MAX_PHONEMES`] symbols, all in Kokoro's
/// vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhonemeChunk {
    /// The source sentence, as written in the input (trimmed). A sentence too long for one
    /// chunk gives several chunks that all carry it.
    pub text: String,
    /// misaki phonemes, e.g. "həlˈO wˈɜɹld!".
    pub phonemes: String,
}

impl PhonemeChunk {
    /// Kokoro token ids of the phonemes (without the pad tokens the model adds around them).
    pub fn token_ids(&self) -> Vec<u32> {
        vocab::token_ids(&self.phonemes)
    }
}

/// English text front-end for Kokoro-82M: sentence splitting, normalisation, G2P, chunking.
///
/// Load once and share: it is `Send + Sync`.
#[derive(Debug)]
pub struct Frontend {
    g2p: G2p,
    max_phonemes: usize,
}

impl Frontend {
    /// A front-end over misaki's lexicons, with espeak-ng for unknown words (in the
    /// lexicon's accent) when it is installed and spelling otherwise (see [`Fallback::detect`]).
    pub fn new(lexicon: Lexicon) -> Frontend {
        let fallback = Fallback::detect_for(lexicon.accent());
        Frontend::with_fallback(lexicon, fallback)
    }

    /// A front-end with a chosen fallback for unknown words, e.g. [`Fallback::Spell`] for
    /// output that does not depend on what is installed.
    pub fn with_fallback(lexicon: Lexicon, fallback: Fallback) -> Frontend {
        Frontend {
            g2p: G2p::new(lexicon, fallback),
            max_phonemes: MAX_PHONEMES,
        }
    }

    /// The same front-end with chunks of at most `max` symbols (at least 1, at most
    /// [`MAX_PHONEMES`] for Kokoro-82M).
    pub fn with_max_phonemes(mut self, max: usize) -> Frontend {
        self.max_phonemes = max.max(1);
        self
    }

    /// The G2P, for phonemising already normalised text.
    pub fn g2p(&self) -> &G2p {
        &self.g2p
    }

    /// All chunks of `text`, one or more per sentence; empty when nothing in it can be
    /// spoken (empty text, punctuation, emoji).
    pub fn phonemize(&self, text: &str) -> Vec<PhonemeChunk> {
        self.chunks(text).collect()
    }

    /// The chunks of `text`, computed sentence by sentence as the iterator is consumed, so
    /// that long text streams. Work is linear in the length of the text.
    pub fn chunks<'a>(&'a self, text: &'a str) -> impl Iterator<Item = PhonemeChunk> + 'a {
        sentences(text).flat_map(move |sentence| {
            let phonemes = self.phonemize_sentence(sentence);
            split_phonemes(&phonemes, self.max_phonemes)
                .into_iter()
                .filter(|p| p.chars().any(|c| c.is_alphabetic()))
                .map(move |phonemes| PhonemeChunk {
                    text: sentence.to_string(),
                    phonemes,
                })
        })
    }

    /// Phonemes of one sentence (normalised, then read), not split.
    pub fn phonemize_sentence(&self, sentence: &str) -> String {
        self.g2p.phonemize(&normalize(sentence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::Entry;

    fn frontend() -> Frontend {
        let gold = [
            ("hello", "həlˈO"),
            ("the", "ði"),
            ("cat", "kˈæt"),
            ("one", "wˈʌn"),
            ("two", "tˈu"),
            ("three", "θɹˈi"),
            ("A", "ˈA"),
            ("B", "bˈi"),
            ("C", "sˈi"),
        ]
        .map(|(w, p)| (w.to_string(), Entry::Plain(p.to_string())));
        Frontend::with_fallback(Lexicon::from_entries(gold, []), Fallback::Spell)
    }

    /// A deterministic generator of awkward text: multi-byte letters, digits, symbols,
    /// apostrophes, dots, dashes, quotes, spaces and newlines.
    fn awkward_texts(n: usize) -> Vec<String> {
        let palette: Vec<char> =
            "aZé'’.,;:!?-–—…\"“”()[]$£€%&@+=#/0123456789 \n\tßİıǅ\u{301}\u{200d}😀中ё°º×½ⅫCAB"
                .chars()
                .collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let len = (state % 40) as usize;
                (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        palette[(state % palette.len() as u64) as usize]
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn never_panics_and_stays_in_vocab() {
        let fe = frontend();
        for text in awkward_texts(5000) {
            for chunk in fe.phonemize(&text) {
                assert!(
                    chunk.phonemes.chars().all(vocab::in_vocab),
                    "{text:?} → {:?}",
                    chunk.phonemes
                );
                assert!(chunk.phonemes.chars().count() <= MAX_PHONEMES);
                assert!(!chunk.phonemes.is_empty());
            }
            // The G2P alone, on text that skipped normalisation.
            let ps = fe.g2p().phonemize(&text);
            assert!(ps.chars().all(vocab::in_vocab), "{text:?} → {ps:?}");
        }
    }

    #[test]
    fn chunks_carry_their_sentence() {
        let fe = frontend();
        let chunks = fe.phonemize("Hello cat. The cat!  (One two three.)");
        let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["Hello cat.", "The cat!", "(One two three.)"]);
        assert_eq!(chunks[0].phonemes, "həlˈO kˈæt.");
        assert_eq!(chunks[2].phonemes, "(wˈʌn tˈu θɹˈi.)");
        assert!(fe.phonemize(" … !? ").is_empty());
    }

    #[test]
    fn smaller_chunks_on_request() {
        let fe = frontend().with_max_phonemes(12);
        let chunks = fe.phonemize("Hello cat, hello cat, hello cat.");
        assert!(chunks.len() >= 3);
        assert!(chunks.iter().all(|c| c.phonemes.chars().count() <= 12));
    }
}

#[cfg(test)]
mod thread_safety {
    /// A loaded front-end is shared between threads (e.g. by a server).
    #[test]
    fn frontend_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Frontend>();
        assert_send_sync::<super::PhonemeChunk>();
    }
}
