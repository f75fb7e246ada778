//! What the G2P does with words that neither lexicon has and morphology cannot derive.
//!
//! * [`Fallback::Espeak`] asks the `espeak-ng` program (`espeak-ng -q --ipa=3 --tie=^ -v
//!   en-us`, one word on standard input) and maps its IPA to misaki's symbols as misaki's
//!   `espeak.py` does (`e^ɪ` → `A`, `a^ɪ` → `I`, `o^ʊ` → `O`, `d^ʒ` → `ʤ`, `ɚ` → `əɹ`,
//!   syllabic consonants → `ᵊ` + consonant, length marks dropped, …). It is optional at run
//!   time: [`Fallback::detect`] uses it when the program is installed and falls back to
//!   spelling otherwise, and a failing call is treated as "unknown". espeak-ng is GPL-3.0; it
//!   runs as a separate program and is neither linked nor shipped, so voxclone stays MIT OR
//!   Apache-2.0.
//! * Without espeak-ng ([`Fallback::Spell`]), or when it fails, the G2P reads an unknown word
//!   as a compound of two or three gold-lexicon words ([`crate::G2p::known_parts`]:
//!   "rosebush" = "rose" + "bush"), and else spells it letter by letter with the lexicon's
//!   letter names ([`crate::G2p::spell`]), the last resort.
//!
//! The evidence (`scripts/eval_fallback.py`: 2,000 random words held out of misaki's gold
//! lexicon, stress ignored, espeak-ng 1.51):
//!
//! | fallback | answers | exact | phoneme error rate |
//! |---|---|---|---|
//! | espeak-ng, mapped as misaki | 100% | 44.5% | 10.8% |
//! | known parts | 29.8% | 13.8% (46.6% of its answers; espeak-ng 52.8% on those) | 71.3% |
//! | spelling | 100% | 0.0% | 98.1% |
//!
//! Hence espeak-ng first when installed (it is also what misaki, and so Kokoro's training
//! data, uses), then known parts, then spelling.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::lexicon::Accent;

/// The strategy for unknown words.
#[derive(Debug)]
pub enum Fallback {
    /// Spell unknown words letter by letter.
    Spell,
    /// Ask espeak-ng, and spell when it fails.
    Espeak(Espeak),
}

impl Fallback {
    /// espeak-ng when `espeak-ng` (or `$VOXCLONE_ESPEAK`) runs, else spelling.
    pub fn detect() -> Fallback {
        Fallback::detect_for(Accent::American)
    }

    /// [`detect`](Self::detect), with espeak-ng reading `accent`'s English.
    pub fn detect_for(accent: Accent) -> Fallback {
        match Espeak::detect() {
            Some(e) => Fallback::Espeak(e.with_accent(accent)),
            None => Fallback::Spell,
        }
    }

    /// Phonemes for a whole unknown word, or `None` to spell it.
    pub fn phonemize(&self, word: &str) -> Option<String> {
        match self {
            Fallback::Spell => None,
            Fallback::Espeak(e) => e.phonemize(word),
        }
    }

    /// A short name for logs: "espeak-ng" or "spelling".
    pub fn name(&self) -> &'static str {
        match self {
            Fallback::Spell => "spelling",
            Fallback::Espeak(_) => "espeak-ng",
        }
    }
}

/// The espeak-ng program, with a cache of the words it has read.
#[derive(Debug)]
pub struct Espeak {
    program: PathBuf,
    accent: Accent,
    cache: Mutex<HashMap<String, Option<String>>>,
}

impl Espeak {
    /// `espeak-ng` from `$VOXCLONE_ESPEAK` or the `PATH`, if it runs.
    pub fn detect() -> Option<Espeak> {
        let program = std::env::var_os("VOXCLONE_ESPEAK")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("espeak-ng"));
        Espeak::with_program(program)
    }

    /// A specific espeak-ng binary, if it runs.
    pub fn with_program(program: PathBuf) -> Option<Espeak> {
        let ok = Command::new(&program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Espeak {
            program,
            accent: Accent::American,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The same program reading `accent`'s English (`en-us` or `en-gb`).
    pub fn with_accent(mut self, accent: Accent) -> Espeak {
        self.accent = accent;
        self
    }

    /// misaki phonemes of `word`, or `None` when espeak-ng fails or gives nothing usable.
    pub fn phonemize(&self, word: &str) -> Option<String> {
        let word: String = word
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '-')
            .collect();
        if word.is_empty() {
            return None;
        }
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&word).cloned()) {
            return hit;
        }
        let result = self
            .run(&word)
            .map(|ipa| ipa_to_misaki_for(&ipa, self.accent))
            .filter(|p| !p.is_empty());
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(word, result.clone());
        }
        result
    }

    fn run(&self, word: &str) -> Option<String> {
        let mut child = Command::new(&self.program)
            .args(["-q", "--ipa=3", "--tie=^", "-v"])
            .arg(match self.accent {
                Accent::American => "en-us",
                Accent::British => "en-gb",
            })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(word.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8(out.stdout).ok()?;
        let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!joined.is_empty()).then_some(joined)
    }
}

/// espeak-ng IPA (with `^` ties) → misaki's US symbols, as misaki's `EspeakFallback`.
pub fn ipa_to_misaki(ipa: &str) -> String {
    ipa_to_misaki_for(ipa, Accent::American)
}

/// espeak-ng IPA → misaki's symbols of `accent` (British keeps long vowels and has `Q` for
/// the GOAT diphthong).
pub fn ipa_to_misaki_for(ipa: &str, accent: Accent) -> String {
    // Longest patterns first.
    const E2M: &[(&str, &str)] = &[
        ("ʔˌn\u{329}", "ʔn"),
        ("ʔn\u{329}", "ʔn"),
        ("a^ɪ", "I"),
        ("a^ʊ", "W"),
        ("d^ʒ", "ʤ"),
        ("e^ɪ", "A"),
        ("t^ʃ", "ʧ"),
        ("ɔ^ɪ", "Y"),
        ("ə^l", "ᵊl"),
        ("ʲo", "jo"),
        ("ʲə", "jə"),
        ("ʲ", ""),
        ("ɚ", "əɹ"),
        ("e", "A"),
        ("r", "ɹ"),
        ("x", "k"),
        ("ç", "k"),
        ("ɐ", "ə"),
        ("ɬ", "l"),
        ("\u{303}", ""),
    ];
    let mut ps = ipa.replace('\u{200d}', "^");
    for (old, new) in E2M {
        ps = ps.replace(old, new);
    }
    // A syllabic consonant: "n̩" → "ᵊn".
    let mut out = String::with_capacity(ps.len());
    let chars: Vec<char> = ps.chars().collect();
    let mut k = 0;
    while k < chars.len() {
        if chars.get(k + 1) == Some(&'\u{329}') && !chars[k].is_whitespace() {
            out.push('ᵊ');
            out.push(chars[k]);
            k += 2;
            continue;
        }
        if chars[k] != '\u{329}' {
            out.push(chars[k]);
        }
        k += 1;
    }
    let ps = match accent {
        Accent::American => out
            .replace("o^ʊ", "O")
            .replace("ɜːɹ", "ɜɹ")
            .replace("ɜː", "ɜɹ")
            .replace("ɪə", "iə")
            .replace('ː', ""),
        Accent::British => out
            .replace("e^ə", "ɛː")
            .replace("iə", "ɪə")
            .replace("ə^ʊ", "Q"),
    };
    let ps = ps.replace('o', "ɔ").replace('^', "");
    ps.replace('-', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn british_espeak_keeps_long_vowels_and_has_its_own_diphthongs() {
        // espeak-ng en-gb for "hair", "goat", "here", "nurse": misaki's GB mapping.
        // As misaki: its general `e` → `A` runs before the British `e^ə` → `ɛː` can match.
        assert_eq!(ipa_to_misaki_for("hˈe^ə", Accent::British), "hˈAə");
        assert_eq!(ipa_to_misaki_for("ɡˈə^ʊt", Accent::British), "ɡˈQt");
        assert_eq!(ipa_to_misaki_for("hˈiə", Accent::British), "hˈɪə");
        assert_eq!(ipa_to_misaki_for("nˈɜːs", Accent::British), "nˈɜːs");
        assert_eq!(ipa_to_misaki_for("nˈɜːs", Accent::American), "nˈɜɹs");
    }

    #[test]
    fn maps_espeak_ipa_to_misaki() {
        for (ipa, want) in [
            ("kəkˈoːɹo^ʊ", "kəkˈɔɹO"),
            ("nˈɪkəlˌa^ɪ", "nˈɪkəlˌI"),
            ("bˈɑːɾə^l", "bˈɑɾᵊl"),
            ("bˈʌʔn̩", "bˈʌʔn"),
            ("bˈʌɾɚ", "bˈʌɾəɹ"),
            ("d^ʒˈʌst t^ʃˈe^ɪn", "ʤˈʌst ʧˈAn"),
            ("hˈa^ʊs bˈɔ^ɪ", "hˈWs bˈY"),
            ("bˈɜːd", "bˈɜɹd"),
            ("lˈɪtəl\u{329}", "lˈɪtəᵊl"),
            ("kəkˈoːɹo\u{200d}ʊ", "kəkˈɔɹO"),
        ] {
            assert_eq!(ipa_to_misaki(ipa), want, "{ipa}");
        }
    }

    #[test]
    fn missing_program_is_not_an_error() {
        assert!(Espeak::with_program("/nonexistent/espeak-ng".into()).is_none());
        assert!(Fallback::Spell.phonemize("zyx").is_none());
    }

    #[test]
    fn espeak_when_installed() {
        // Runs only where espeak-ng is installed; the fallback is optional by design.
        let Some(e) = Espeak::detect() else {
            eprintln!("espeak-ng not installed; skipping");
            return;
        };
        let ps = e.phonemize("Kokoro").expect("espeak-ng reads a word");
        assert!(ps.contains('k') && ps.contains('ˈ'), "{ps}");
        assert_eq!(e.phonemize("Kokoro"), Some(ps), "cached");
        assert_eq!(e.phonemize("--"), None);
    }
}
