//! English text front-end for Kokoro-82M: text → misaki phonemes, in chunks the model can read.
//!
//! Kokoro-82M (hexgrad; StyleTTS 2 family) reads phonemes written in the conventions of
//! [misaki](https://pypi.org/project/misaki/), hexgrad's G2P. This crate reproduces misaki
//! 0.9.4's US English output without Python:
//!
//! ```no_run
//! use voxclone_text::{Frontend, Lexicon};
//! # fn main() -> Result<(), voxclone_text::TextError> {
//! let lexicon = Lexicon::load("us_gold.json".as_ref(), "us_silver.json".as_ref())?;
//! let frontend = Frontend::new(lexicon);
//! for chunk in frontend.chunks("Dr. Smith paid $3.50 on Jan. 5, 2024. Did the FBI agree?") {
//!     println!("{} → {}", chunk.text, chunk.phonemes); // ≤ 510 symbols each
//! }
//! # Ok(()) }
//! ```
//!
//! The pipeline, one module per step:
//!
//! | step | module | what |
//! |---|---|---|
//! | 1 | [`mod@sentences`] | split raw text into sentences (not at "Dr." or "3.5"), lazily |
//! | 2 | [`mod@normalize`] | numbers, money, dates, times, units, abbreviations, symbols → words |
//! | 3 | [`g2p`] | words → phonemes: [`Lexicon`] (misaki's gold, then silver), context rules, stress, morphology, [`Fallback`] |
//! | 4 | [`chunk`] | phoneme strings → pieces of at most [`MAX_PHONEMES`] (510) symbols |
//! | – | [`frontend`] | [`Frontend`]: all of it, as an iterator of [`PhonemeChunk`]s |
//!
//! # Conventions
//!
//! Phonemes are misaki's US set: `A I O W Y` are the diphthongs /eɪ aɪ oʊ aʊ ɔɪ/, `ʤ ʧ` the
//! affricates, `ᵊ` a reduced schwa, `ᵻ` the reduced vowel of "-ed"/"-es", `ɜɹ` the
//! r-coloured vowel, `ˈ ˌ` primary and secondary stress before the vowel. As in misaki 0.9.4
//! when Kokoro-82M v1.0 calls it, the flap is written `T` and the glottal stop `t`. Words are
//! separated by single spaces; punctuation is kept as the symbols `; : , . ! ? — … " ( ) “ ”`.
//! Every symbol produced is in Kokoro's vocabulary ([`vocab`]); anything else is removed.
//!
//! Differences from misaki: no spaCy tagger (heteronyms use the entry's `DEFAULT`, the form
//! before a pause, or a tag guessed from the previous word); numbers are normalised before
//! lookup, with more formats (times, dates, units, ranges) than misaki reads. Emoji and
//! letters of other scripts are dropped silently; accented Latin letters lose their
//! accents. Agreement with misaki itself is measured by `scripts/compare_g2p_misaki.py` and
//! guarded by `tests/misaki_agreement.rs`.
//!
//! # Licences
//!
//! * misaki is Apache-2.0 (hexgrad). This crate is an independent Rust implementation of
//!   its English rules; the lexicon data (`us_gold.json`, `us_silver.json`) is misaki's and
//!   is read at run time, not shipped (fetch it with `voxclone-weights`).
//! * espeak-ng (GPL-3.0), when installed, is run as a separate program for words the
//!   lexicons lack ([`Fallback::Espeak`]). It is not linked, bundled or required: without
//!   it unknown words are spelled. voxclone itself stays MIT OR Apache-2.0.

pub mod chunk;
pub mod fallback;
pub mod frontend;
pub mod g2p;
pub mod lexicon;
pub mod normalize;
pub mod numbers;
pub mod rtvc;
pub mod sentences;
pub mod stress;
pub mod vocab;

pub use chunk::{split_phonemes, MAX_PHONEMES};
pub use fallback::{Espeak, Fallback};
pub use frontend::{Frontend, PhonemeChunk};
pub use g2p::G2p;
pub use lexicon::{Accent, Entry, Lexicon};
pub use normalize::normalize;
pub use sentences::sentences;

/// Errors of the text front-end (one line each).
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// A lexicon file cannot be read or is not misaki's format.
    #[error("cannot load lexicon {path}: {reason}")]
    Lexicon {
        /// The file (or "gold"/"silver" for in-memory JSON).
        path: String,
        /// What is wrong.
        reason: String,
    },
}
