//! misaki's US English pronunciation lexicons.
//!
//! `us_gold.json` (about 90k entries, hand-checked) and `us_silver.json` (about 93k, less
//! sure) map a word to its phonemes, or, for heteronyms, to a map from a part-of-speech tag
//! (`DEFAULT`, `NOUN`, `VERB`, `VBD`, …, or `None` for the form used before a pause) to
//! phonemes. Gold is consulted first. As misaki does, every lower-case key also answers for
//! its capitalised form and every capitalised key for its lower-case form, unless the
//! lexicon has that form itself.
//!
//! The data is misaki's (hexgrad, Apache-2.0); voxclone reads the files, it does not ship
//! them.

use crate::TextError;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// A lexicon entry: one pronunciation, or one per part-of-speech tag.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// The same pronunciation everywhere.
    Plain(String),
    /// Heteronym: tag → pronunciation (`None` when misaki has no pronunciation for that tag,
    /// e.g. the noun "US", which is then spelled). Always has a `DEFAULT` tag.
    Tagged(Vec<(String, Option<String>)>),
}

impl Entry {
    /// The pronunciation for `tag`, falling back to `DEFAULT`.
    pub fn for_tag(&self, tag: &str) -> Option<&str> {
        match self {
            Entry::Plain(p) => Some(p),
            Entry::Tagged(tags) => tags
                .iter()
                .find(|(t, _)| t == tag)
                .or_else(|| tags.iter().find(|(t, _)| t == "DEFAULT"))
                .and_then(|(_, p)| p.as_deref()),
        }
    }

    /// Whether this entry has a pronunciation specific to `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        matches!(self, Entry::Tagged(tags) if tags.iter().any(|(t, _)| t == tag))
    }
}

/// Which lexicon answered: gold (rating 4 in misaki) or silver (rating 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// `us_silver.json`.
    Silver,
    /// `us_gold.json`.
    Gold,
}

/// Which English a lexicon (and the rules around it) speaks: misaki's `british` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Accent {
    /// `us_*.json`; flapped /t/ in suffixes (`ɾ`), reduced `ᵻ`.
    #[default]
    American,
    /// `gb_*.json`; no flapping, `ɪ` where American has `ᵻ`, espeak-ng's `en-gb`.
    British,
}

/// misaki's gold and silver lexicons, word → [`Entry`]. Cheap to share (`Send + Sync`).
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    gold: HashMap<String, Entry>,
    silver: HashMap<String, Entry>,
    accent: Accent,
}

impl Lexicon {
    /// The same lexicon, read with `accent`'s rules (load `gb_*.json` for British).
    pub fn with_accent(mut self, accent: Accent) -> Lexicon {
        self.accent = accent;
        self
    }

    /// The accent whose rules go with this lexicon.
    pub fn accent(&self) -> Accent {
        self.accent
    }

    /// Loads misaki's `us_gold.json` and `us_silver.json` (or the `gb_*` pair, with
    /// [`with_accent`](Self::with_accent)).
    pub fn load(us_gold: &Path, us_silver: &Path) -> Result<Lexicon, TextError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|e| TextError::Lexicon {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        };
        let (gold, silver) = (read(us_gold)?, read(us_silver)?);
        Lexicon::from_json(&gold, &silver).map_err(|e| {
            let TextError::Lexicon { path, reason } = e;
            let path = if path == "gold" { us_gold } else { us_silver };
            TextError::Lexicon {
                path: path.display().to_string(),
                reason,
            }
        })
    }

    /// Builds a lexicon from the JSON text of the two files.
    pub fn from_json(us_gold: &str, us_silver: &str) -> Result<Lexicon, TextError> {
        Ok(Lexicon {
            gold: grow(parse(us_gold, "gold")?),
            silver: grow(parse(us_silver, "silver")?),
            accent: Accent::American,
        })
    }

    /// Builds a lexicon from entries, e.g. for tests.
    pub fn from_entries(
        gold: impl IntoIterator<Item = (String, Entry)>,
        silver: impl IntoIterator<Item = (String, Entry)>,
    ) -> Lexicon {
        Lexicon {
            gold: grow(gold.into_iter().collect()),
            silver: grow(silver.into_iter().collect()),
            accent: Accent::American,
        }
    }

    /// The gold entry for `word`, exactly as written.
    pub fn gold(&self, word: &str) -> Option<&Entry> {
        self.gold.get(word)
    }

    /// The silver entry for `word`, exactly as written.
    pub fn silver(&self, word: &str) -> Option<&Entry> {
        self.silver.get(word)
    }

    /// The gold entry, else the silver one, with its tier.
    pub fn get(&self, word: &str) -> Option<(&Entry, Tier)> {
        self.gold
            .get(word)
            .map(|e| (e, Tier::Gold))
            .or_else(|| self.silver.get(word).map(|e| (e, Tier::Silver)))
    }

    /// Whether either lexicon has `word` as written.
    pub fn contains(&self, word: &str) -> bool {
        self.gold.contains_key(word) || self.silver.contains_key(word)
    }

    /// Number of entries (gold and silver, after adding case variants).
    pub fn len(&self) -> usize {
        self.gold.len() + self.silver.len()
    }

    /// Whether the lexicon is empty.
    pub fn is_empty(&self) -> bool {
        self.gold.is_empty() && self.silver.is_empty()
    }
}

fn parse(json: &str, which: &str) -> Result<HashMap<String, Entry>, TextError> {
    let err = |reason: String| TextError::Lexicon {
        path: which.to_string(),
        reason,
    };
    let value: Value = serde_json::from_str(json).map_err(|e| err(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(err("not a JSON object of words".into()));
    };
    let mut out = HashMap::with_capacity(map.len());
    for (word, v) in map {
        let entry = match v {
            Value::String(p) => Entry::Plain(p),
            Value::Object(tags) => {
                let tags: Vec<(String, Option<String>)> = tags
                    .into_iter()
                    .map(|(t, p)| (t, p.as_str().map(String::from)))
                    .collect();
                if !tags.iter().any(|(t, _)| t == "DEFAULT") {
                    return Err(err(format!("entry {word:?} has tags but no DEFAULT")));
                }
                Entry::Tagged(tags)
            }
            Value::Null => continue,
            other => return Err(err(format!("entry {word:?} is {other}, not phonemes"))),
        };
        out.insert(word, entry);
    }
    Ok(out)
}

/// Adds case variants as misaki's `grow_dictionary` does: "word" answers for "Word" and
/// "Word" for "word", without overriding entries the lexicon has.
fn grow(mut map: HashMap<String, Entry>) -> HashMap<String, Entry> {
    let mut extra = Vec::new();
    for (k, v) in &map {
        if k.chars().count() < 2 {
            continue;
        }
        let lower = k.to_lowercase();
        let capitalized = capitalize(k);
        if *k == lower {
            if *k != capitalized {
                extra.push((capitalized, v.clone()));
            }
        } else if *k == capitalize(&lower) {
            extra.push((lower, v.clone()));
        }
    }
    for (k, v) in extra {
        map.entry(k).or_insert(v);
    }
    map
}

/// Python's `str.capitalize`: first letter upper case, the rest lower case.
pub(crate) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_tagged_entries() {
        let lex = Lexicon::from_json(
            r#"{"hello": "həlˈO", "read": {"DEFAULT": "ɹˈid", "VBD": "ɹˈɛd"}, "US": {"DEFAULT": "ˌʌs", "NOUN": null}}"#,
            r#"{"kokoro": "kəkˈɔɹO"}"#,
        )
        .unwrap();
        assert_eq!(lex.gold("hello"), Some(&Entry::Plain("həlˈO".into())));
        assert_eq!(lex.gold("Hello"), Some(&Entry::Plain("həlˈO".into())));
        assert_eq!(lex.gold("read").unwrap().for_tag("VBD"), Some("ɹˈɛd"));
        assert_eq!(lex.gold("read").unwrap().for_tag("NOUN"), Some("ɹˈid"));
        assert_eq!(lex.gold("US").unwrap().for_tag("NOUN"), None);
        assert_eq!(lex.get("kokoro").unwrap().1, Tier::Silver);
        assert_eq!(lex.get("Kokoro").unwrap().1, Tier::Silver);
        assert!(lex.gold("HELLO").is_none());
    }

    #[test]
    fn case_variants_do_not_override() {
        let lex = Lexicon::from_json(r#"{"polish": "pˈɑlɪʃ", "Polish": "pˈOlɪʃ"}"#, "{}").unwrap();
        assert_eq!(
            lex.gold("Polish").unwrap().for_tag("DEFAULT"),
            Some("pˈOlɪʃ")
        );
        assert_eq!(
            lex.gold("polish").unwrap().for_tag("DEFAULT"),
            Some("pˈɑlɪʃ")
        );
    }

    #[test]
    fn errors_are_one_line() {
        for (gold, silver) in [
            ("[1]", "{}"),
            ("{", "{}"),
            (r#"{"a": {"NOUN": "x"}}"#, "{}"),
        ] {
            let e = Lexicon::from_json(gold, silver).unwrap_err().to_string();
            assert!(!e.contains('\n'), "{e}");
        }
        let e = Lexicon::load(Path::new("/nonexistent/us_gold.json"), Path::new("x"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/nonexistent/us_gold.json") && !e.contains('\n'),
            "{e}"
        );
    }
}
