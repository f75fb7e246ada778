//! The catalogue of Kokoro-82M v1.0's 54 stock voices (from the npm package kokoro-js): each
//! voice's language, accent, gender and Kokoro's own quality grade, the default voice, and
//! OpenAI's voice names mapped onto Kokoro's.
//!
//! Kokoro names a voice by a language letter, a gender letter and a name (`af_heart`: American
//! English, female, "heart"); the catalogue reads that, and adds the grades Kokoro publishes
//! for its English voices (the table in kokoro-js's README, from hexgrad's VOICES.md).
//!
//! Every voice reads English text: American voices with misaki's US lexicons, British ones
//! with its GB lexicons, the others with the US front-end and so with their own accent (they
//! matter as a base for cloning; speaking their languages is not supported yet).

use voxclone_text::Accent;

/// The voice used when none is named: Kokoro's best-graded voice (A).
pub const DEFAULT_VOICE: &str = "af_heart";

/// The language a stock voice was trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    AmericanEnglish,
    BritishEnglish,
    Spanish,
    French,
    Hindi,
    Italian,
    Japanese,
    BrazilianPortuguese,
    Mandarin,
}

impl Language {
    /// From Kokoro's language letter.
    pub fn from_letter(letter: char) -> Option<Self> {
        Some(match letter {
            'a' => Self::AmericanEnglish,
            'b' => Self::BritishEnglish,
            'e' => Self::Spanish,
            'f' => Self::French,
            'h' => Self::Hindi,
            'i' => Self::Italian,
            'j' => Self::Japanese,
            'p' => Self::BrazilianPortuguese,
            'z' => Self::Mandarin,
            _ => return None,
        })
    }

    /// The language's name in English.
    pub fn name(self) -> &'static str {
        match self {
            Self::AmericanEnglish => "American English",
            Self::BritishEnglish => "British English",
            Self::Spanish => "Spanish",
            Self::French => "French",
            Self::Hindi => "Hindi",
            Self::Italian => "Italian",
            Self::Japanese => "Japanese",
            Self::BrazilianPortuguese => "Brazilian Portuguese",
            Self::Mandarin => "Mandarin Chinese",
        }
    }

    /// BCP 47 tag, for filters and the API: `en-US`, `en-GB`, `es`, `fr`, `hi`, `it`, `ja`,
    /// `pt-BR`, `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Self::AmericanEnglish => "en-US",
            Self::BritishEnglish => "en-GB",
            Self::Spanish => "es",
            Self::French => "fr",
            Self::Hindi => "hi",
            Self::Italian => "it",
            Self::Japanese => "ja",
            Self::BrazilianPortuguese => "pt-BR",
            Self::Mandarin => "zh",
        }
    }

    pub fn is_english(self) -> bool {
        matches!(self, Self::AmericanEnglish | Self::BritishEnglish)
    }

    /// The English front-end the voice reads with.
    pub fn accent(self) -> Accent {
        match self {
            Self::BritishEnglish => Accent::British,
            _ => Accent::American,
        }
    }

    /// Whether `filter` names this language: its code (`en-GB`), its primary subtag (`en`) or
    /// its name (`british english`), case-insensitively.
    pub fn matches(self, filter: &str) -> bool {
        let f = filter.trim().to_ascii_lowercase().replace('_', "-");
        let code = self.code().to_ascii_lowercase();
        f == code
            || code.split('-').next() == Some(f.as_str())
            || f == self.name().to_ascii_lowercase()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
}

impl Gender {
    pub fn name(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
        }
    }
}

/// What the catalogue knows of one stock voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoiceInfo {
    pub name: &'static str,
    pub language: Language,
    pub gender: Gender,
    /// Kokoro's overall grade (A best, F worst), published for the English voices only.
    pub grade: Option<&'static str>,
}

impl VoiceInfo {
    /// One line for listings, e.g. `American English female, grade A`.
    pub fn description(&self) -> String {
        let mut out = format!("{} {}", self.language.name(), self.gender.name());
        match self.grade {
            Some(g) => out.push_str(&format!(", grade {g}")),
            None if !self.language.is_english() => out.push_str(", reads English accented"),
            None => {}
        }
        out
    }
}

/// Kokoro's overall grades for its English voices (kokoro-js 1.2.1 README, "Overall Grade").
const GRADES: &[(&str, &str)] = &[
    ("af_heart", "A"),
    ("af_alloy", "C"),
    ("af_aoede", "C+"),
    ("af_bella", "A-"),
    ("af_jessica", "D"),
    ("af_kore", "C+"),
    ("af_nicole", "B-"),
    ("af_nova", "C"),
    ("af_river", "D"),
    ("af_sarah", "C+"),
    ("af_sky", "C-"),
    ("am_adam", "F+"),
    ("am_echo", "D"),
    ("am_eric", "D"),
    ("am_fenrir", "C+"),
    ("am_liam", "D"),
    ("am_michael", "C+"),
    ("am_onyx", "D"),
    ("am_puck", "C+"),
    ("am_santa", "D-"),
    ("bf_alice", "D"),
    ("bf_emma", "B-"),
    ("bf_isabella", "C"),
    ("bf_lily", "D"),
    ("bm_daniel", "D"),
    ("bm_fable", "C"),
    ("bm_george", "C"),
    ("bm_lewis", "D+"),
];

/// The catalogue entry of stock voice `name`, if it is one of Kokoro's.
pub fn info(name: &str) -> Option<VoiceInfo> {
    let pinned = voxclone_weights::KOKORO_VOICES
        .iter()
        .find(|v| v.name == name)?;
    let mut letters = name.chars();
    let language = Language::from_letter(letters.next()?)?;
    let gender = match letters.next()? {
        'f' => Gender::Female,
        'm' => Gender::Male,
        _ => return None,
    };
    Some(VoiceInfo {
        name: pinned.name,
        language,
        gender,
        grade: GRADES.iter().find(|(n, _)| *n == name).map(|(_, g)| *g),
    })
}

/// Every stock voice, grouped by language (English first), best grade first within one.
pub fn catalogue() -> Vec<VoiceInfo> {
    let mut all: Vec<VoiceInfo> = voxclone_weights::KOKORO_VOICES
        .iter()
        .filter_map(|v| info(v.name))
        .collect();
    all.sort_by_key(|v| (v.language, grade_rank(v.grade), v.name));
    all
}

/// Sort key of a grade: A before A- before B- ... before none.
fn grade_rank(grade: Option<&str>) -> (u8, u8) {
    let Some(g) = grade else { return (u8::MAX, 0) };
    let letter = g.as_bytes()[0];
    let sign = match g.as_bytes().get(1) {
        Some(b'+') => 0,
        None => 1,
        _ => 2,
    };
    (letter, sign)
}

/// OpenAI's voice names, so that off-the-shelf clients work unchanged: the Kokoro voice of the
/// same name where there is one, else a chosen voice of the same gender (OpenAI's own
/// descriptions), preferring Kokoro's better grades.
pub const OPENAI_VOICES: &[(&str, &str)] = &[
    ("alloy", "af_alloy"),
    ("ash", "am_michael"),
    ("ballad", "bm_george"),
    ("coral", "af_heart"),
    ("echo", "am_echo"),
    ("fable", "bm_fable"),
    ("nova", "af_nova"),
    ("onyx", "am_onyx"),
    ("sage", "af_sarah"),
    ("shimmer", "af_bella"),
    ("verse", "am_puck"),
];

/// The Kokoro voice an OpenAI voice name stands for.
pub fn openai_voice(name: &str) -> Option<&'static str> {
    OPENAI_VOICES
        .iter()
        .find(|(openai, _)| openai.eq_ignore_ascii_case(name))
        .map(|(_, kokoro)| *kokoro)
}

/// Up to three of `names` closest to `wanted` (for "did you mean"), closest first.
pub fn closest<'a>(wanted: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted = wanted.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .into_iter()
        .map(|n| (strsim::jaro_winkler(&wanted, &n.to_ascii_lowercase()), n))
        .filter(|(score, _)| *score > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pinned_voice_is_catalogued_and_the_english_ones_graded() {
        let all = catalogue();
        assert_eq!(all.len(), 54);
        let english: Vec<_> = all.iter().filter(|v| v.language.is_english()).collect();
        assert_eq!(english.len(), 28);
        assert!(english.iter().all(|v| v.grade.is_some()), "{english:?}");
        assert!(all
            .iter()
            .filter(|v| !v.language.is_english())
            .all(|v| v.grade.is_none()));
        assert_eq!(GRADES.len(), 28);
        assert!(
            GRADES.iter().all(|(n, _)| info(n).is_some()),
            "grade for a non-voice"
        );
        // Grouped by language, English first, best grade first.
        assert_eq!(all[0].name, "af_heart");
        assert_eq!(all[1].name, "af_bella");
        assert!(all.windows(2).all(|w| w[0].language <= w[1].language));
    }

    #[test]
    fn names_are_read_as_kokoro_writes_them() {
        let v = info("bm_george").unwrap();
        assert_eq!(
            (v.language, v.gender, v.grade),
            (Language::BritishEnglish, Gender::Male, Some("C"))
        );
        assert_eq!(v.language.accent(), Accent::British);
        assert_eq!(
            info("af_heart").unwrap().language.accent(),
            Accent::American
        );
        let j = info("jf_alpha").unwrap();
        assert_eq!(j.description(), "Japanese female, reads English accented");
        assert_eq!(
            info("af_heart").unwrap().description(),
            "American English female, grade A"
        );
        assert_eq!(info("af_nobody"), None);
        assert_eq!(info("xx"), None);
    }

    #[test]
    fn language_filters_take_codes_subtags_and_names() {
        assert!(Language::BritishEnglish.matches("en-GB"));
        assert!(Language::BritishEnglish.matches("en"));
        assert!(Language::BritishEnglish.matches("british english"));
        assert!(Language::AmericanEnglish.matches("en_us"));
        assert!(!Language::AmericanEnglish.matches("en-GB"));
        assert!(Language::Mandarin.matches("zh"));
        assert!(!Language::Japanese.matches("j"));
    }

    #[test]
    fn openai_names_map_to_their_namesakes_and_to_voices_that_exist() {
        for (openai, kokoro) in [
            ("alloy", "af_alloy"),
            ("echo", "am_echo"),
            ("fable", "bm_fable"),
            ("nova", "af_nova"),
            ("onyx", "am_onyx"),
        ] {
            assert_eq!(openai_voice(openai), Some(kokoro));
        }
        for (openai, kokoro) in OPENAI_VOICES {
            assert!(info(kokoro).is_some(), "{openai} → {kokoro}");
        }
        assert_eq!(openai_voice("NOVA"), Some("af_nova"));
        assert_eq!(openai_voice("af_nova"), None);
    }

    #[test]
    fn close_names_are_suggested() {
        let names = catalogue().iter().map(|v| v.name).collect::<Vec<_>>();
        assert_eq!(closest("af_hart", names.iter().copied())[0], "af_heart");
        assert_eq!(
            closest("am_micheal", names.iter().copied())[0],
            "am_michael"
        );
        assert!(closest("zzzzzzzzzzzz", names.iter().copied()).is_empty());
    }
}
