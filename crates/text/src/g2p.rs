//! Grapheme-to-phoneme conversion of normalised English text, in misaki's conventions.
//!
//! [`G2p::phonemize`] reads text produced by [`crate::normalize()`] word by word, right to left
//! (a word's pronunciation can depend on the next one: "the apple" /ði/, "to go" /tə/), and
//! looks each word up as misaki's `en.Lexicon` does:
//!
//! 1. function words whose form depends on context ("a", "an", "the", "to", "in", "am", "I",
//!    "by", "used", "vs");
//! 2. the gold lexicon, then the silver one, with misaki's case rules: a capitalised word gets
//!    a secondary stress if it has none, an all-capitals word a primary one; all-capitals
//!    words missing from the lexicon ("FBI") and dotted acronyms ("U.S.") are spelled;
//! 3. heteronyms: the tag `None` before a pause when the entry has one, else a tag guessed
//!    from the previous word (a verb after "to"/"will"/pronouns, a noun after determiners),
//!    else `DEFAULT` (misaki uses spaCy's tagger; voxclone has none);
//! 4. morphology for words the lexicons lack: `-s`/`-es`/`-ies` and `'s`, `-ed`, `-ing`,
//!    with misaki's voicing and flapping rules (-s after /p t k f θ/ is /s/, after sibilants
//!    /ᵻz/; -ed after /t d/ is /ᵻd/, with /t/ flapped after a vowel);
//! 5. compounds and mixed tokens ("well-known", "McDonald", "MP3") split into pieces, longest
//!    known spans first; pieces of one word are joined without a space and all but the
//!    strongest half lose their primary stress, as misaki does;
//! 6. the [`Fallback`] for what is still unknown.
//!
//! Output follows misaki 0.9.4 as Kokoro-82M v1.0 uses it (`G2P(version=None)`): the flap is
//! written `T` and the glottal stop `t`. Punctuation is kept as the vocabulary's symbols.
//! Everything returned is in [`crate::vocab`].

use crate::fallback::Fallback;
use crate::lexicon::{Accent, Entry, Lexicon, Tier};
use crate::numbers;
use crate::stress::{
    apply_stress, is_consonant, is_vowel, stress_weight, StressLevel, PRIMARY, SECONDARY,
};
use crate::vocab;

/// Punctuation the model reads; each becomes its own phoneme symbol.
const PUNCTUATION: &[char] = &[
    ';', ':', ',', '.', '!', '?', '—', '…', '"', '(', ')', '“', '”',
];
/// Punctuation that is a pause (quotes and brackets are not).
const PAUSES: &[char] = &[';', ':', ',', '.', '!', '?', '—', '…'];
/// Characters that are dropped inside words when nothing else reads them.
const JUNK: &[char] = &['\'', ',', '-', '.', '_', '/'];

/// Turns normalised English text into a misaki phoneme string.
#[derive(Debug)]
pub struct G2p {
    lexicon: Lexicon,
    fallback: Fallback,
}

/// The two words before the word being read (without punctuation between), nearest first.
type Left<'a> = (Option<&'a str>, Option<&'a str>);

/// What follows the word being read; misaki's `TokenContext`.
#[derive(Debug, Clone, Copy, Default)]
struct Context {
    /// Whether the next spoken sound is a vowel (`None`: a pause or the end follows).
    future_vowel: Option<bool>,
    /// Whether the next word is "to".
    future_to: bool,
}

#[derive(Debug, Clone)]
enum Token<'a> {
    Word(&'a str),
    Punct(char),
}

impl G2p {
    /// A G2P over `lexicon` with `fallback` for unknown words.
    pub fn new(lexicon: Lexicon, fallback: Fallback) -> G2p {
        G2p { lexicon, fallback }
    }

    /// The lexicon.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// The fallback for unknown words.
    pub fn fallback(&self) -> &Fallback {
        &self.fallback
    }

    /// Phonemes of normalised text: words separated by single spaces, punctuation attached
    /// as written. Every symbol is in Kokoro's vocabulary.
    pub fn phonemize(&self, text: &str) -> String {
        let tokens = tokenize(text, &self.lexicon);
        let mut phonemes: Vec<String> = vec![String::new(); tokens.len()];
        let mut ctx = Context::default();
        for i in (0..tokens.len()).rev() {
            let (token, _) = &tokens[i];
            match *token {
                Token::Punct(c) => {
                    phonemes[i] = c.to_string();
                    if PAUSES.contains(&c) {
                        ctx.future_vowel = None;
                    }
                    ctx.future_to = false;
                }
                Token::Word(w) => {
                    let prev = previous_word(&tokens, i);
                    let prev2 = prev.and_then(|_| previous_word(&tokens, i - 1));
                    let mut ps = self.word(w, (prev, prev2), ctx);
                    // The "point" of a decimal is unstressed, as misaki reads numbers.
                    if w == "point"
                        && prev.is_some_and(numbers::is_number_word)
                        && next_word(&tokens, i).is_some_and(numbers::is_number_word)
                    {
                        ps = apply_stress(&ps, Some(-2.0));
                    }
                    ctx = next_context(ctx, &ps, w);
                    phonemes[i] = ps;
                }
            }
        }
        let mut out = String::with_capacity(text.len() * 2);
        for ((_, space_after), ps) in tokens.iter().zip(&phonemes) {
            if ps.is_empty() {
                continue;
            }
            out.push_str(ps);
            if *space_after && !out.ends_with(' ') {
                out.push(' ');
            }
        }
        finish(out.trim_end())
    }

    /// Phonemes of one word (never empty unless nothing in it can be read).
    fn word(&self, word: &str, prev: Left, ctx: Context) -> String {
        if let Some(ps) = self.lexicon_word(word, prev, ctx, true) {
            return ps;
        }
        // The lexicons are ASCII: a word with accents goes to espeak-ng as written, else it
        // is read without its accents ("café" → "cafe").
        if !word.is_ascii() {
            if let Some(ps) = self.fallback.phonemize(word) {
                return ps;
            }
            let folded = crate::normalize::fold_accents(word);
            if folded != word {
                return self.word(&folded, prev, ctx);
            }
        }
        self.compound(word, prev, ctx)
    }

    /// misaki's `Lexicon.__call__` for one token: special cases, lexicon, morphology, numbers.
    /// `is_head`: the word starts a token (a leading "-" on a number is then "minus").
    fn lexicon_word(&self, word: &str, prev: Left, ctx: Context, is_head: bool) -> Option<String> {
        let word = word.replace(['‘', '’'], "'");
        let stress = if word == word.to_lowercase() {
            None
        } else if word == word.to_uppercase() {
            Some(2.0)
        } else {
            Some(0.5)
        };
        let tag = guess_tag(prev.0, prev.1);
        if let Some((ps, _)) = self.get_word(&word, tag, stress, ctx) {
            return Some(ps);
        }
        if is_number(&word, is_head) {
            return Some(self.number(&word, is_head));
        }
        None
    }

    /// A word the lexicon lacks as a whole: split it into pieces and read the longest known
    /// spans, right to left; unknown pieces go to the fallback.
    fn compound(&self, word: &str, prev: Left, ctx: Context) -> String {
        let pieces = subtokenize(word);
        let mut phonemes: Vec<Option<String>> = vec![None; pieces.len()];
        let mut known = vec![false; pieces.len()];
        let mut ctx = ctx;
        let mut right = pieces.len();
        let mut unknown = false;
        while right > 0 {
            let mut left = 0;
            loop {
                let span: String = pieces[left..right].concat();
                if let Some(ps) = self.lexicon_word(&span, prev, ctx, left == 0) {
                    ctx = next_context(ctx, &ps, &span);
                    phonemes[left] = Some(ps);
                    for k in left..right {
                        known[k] = true;
                        if k > left {
                            phonemes[k] = Some(String::new());
                        }
                    }
                    right = left;
                    break;
                } else if left + 1 < right {
                    left += 1;
                } else {
                    right -= 1;
                    let piece = pieces[right];
                    known[right] = true;
                    if piece.chars().all(|c| JUNK.contains(&c)) {
                        phonemes[right] = Some(String::new());
                    } else {
                        unknown = true;
                        known[right] = false;
                    }
                    break;
                }
            }
        }
        if unknown {
            if let Some(ps) = self.fallback.phonemize(word) {
                return ps;
            }
            for (k, piece) in pieces.iter().enumerate() {
                if !known[k] {
                    phonemes[k] = self.known_parts(piece).or_else(|| self.spell(piece));
                }
            }
        }
        resolve_pieces(&pieces, phonemes)
    }

    /// Reads an unknown word as a compound of two or three words of the gold lexicon, at
    /// least three letters each ("rosebush" = "rose" + "bush"), with the primary stress on
    /// the first as in English compounds. Fewest parts win, then the most even split.
    pub fn known_parts(&self, word: &str) -> Option<String> {
        const MIN_PART: usize = 3;
        let w = word.to_lowercase();
        if w.len() < 2 * MIN_PART || !w.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        let read = |part: &str| -> Option<String> {
            if part.len() < MIN_PART {
                return None;
            }
            let entry = self.lexicon.gold(part)?;
            entry.for_tag("DEFAULT").map(String::from)
        };
        let n = w.len();
        let mut best: Option<(usize, Vec<String>)> = None;
        for i in MIN_PART..=n - MIN_PART {
            let (Some(a), Some(b)) = (read(&w[..i]), read(&w[i..])) else {
                continue;
            };
            let evenness = i.min(n - i);
            if best.as_ref().is_none_or(|(e, _)| evenness > *e) {
                best = Some((evenness, vec![a, b]));
            }
        }
        if best.is_none() {
            for i in MIN_PART..n.saturating_sub(2 * MIN_PART - 1) {
                let Some(a) = read(&w[..i]) else { continue };
                for j in i + MIN_PART..=n - MIN_PART {
                    let (Some(b), Some(c)) = (read(&w[i..j]), read(&w[j..])) else {
                        continue;
                    };
                    let evenness = i.min(j - i).min(n - j);
                    if best.as_ref().is_none_or(|(e, _)| evenness > *e) {
                        best = Some((evenness, vec![a.clone(), b, c]));
                    }
                }
            }
        }
        let (_, parts) = best?;
        let mut out = parts[0].clone();
        if !out.contains(PRIMARY) {
            out = apply_stress(&out, Some(2.0));
        }
        for p in &parts[1..] {
            out.push_str(&apply_stress(p, Some(-1.0)));
        }
        Some(out)
    }

    /// Spells a word letter by letter with the lexicon's letter names and the stress of an
    /// acronym ("Brk" → "bˌiˌɑɹkˈA"): the last resort.
    pub fn spell(&self, piece: &str) -> Option<String> {
        let letters: String = piece.chars().filter(|c| c.is_ascii_alphabetic()).collect();
        if letters.is_empty() {
            return None;
        }
        self.get_nnp(&letters)
    }

    /// misaki's `get_word`.
    fn get_word(
        &self,
        word: &str,
        tag: Option<&str>,
        stress: Option<StressLevel>,
        ctx: Context,
    ) -> Option<(String, Tier)> {
        if let Some(ps) = self.special_case(word, tag, stress, ctx) {
            return Some((ps, Tier::Gold));
        }
        let lower = word.to_lowercase();
        let mut word = word.to_string();
        if word.chars().count() > 1
            && word.chars().filter(|&c| c != '\'').all(char::is_alphabetic)
            && word != lower
            && !self.lexicon.contains(&word)
            && (word == word.to_uppercase() || tail(&word) == tail(&word).to_lowercase())
            && (self.lexicon.contains(&lower)
                || self.stem_s(&lower, tag, stress, ctx).is_some()
                || self.stem_ed(&lower, tag, stress, ctx).is_some()
                || self.stem_ing(&lower, tag, stress, ctx).is_some())
        {
            word = lower;
        }
        if self.is_known(&word) {
            return self.lookup(&word, tag, stress, ctx);
        }
        if let Some(stem) = word.strip_suffix("s'") {
            let possessive = format!("{stem}'s");
            if self.is_known(&possessive) {
                return self.lookup(&possessive, tag, stress, ctx);
            }
        }
        if let Some(stem) = word.strip_suffix('\'') {
            if self.is_known(stem) {
                return self.lookup(stem, tag, stress, ctx);
            }
        }
        self.stem_s(&word, tag, stress, ctx)
            .or_else(|| self.stem_ed(&word, tag, stress, ctx))
            .or_else(|| self.stem_ing(&word, tag, stress.or(Some(0.5)), ctx))
    }

    /// Function words whose pronunciation depends on the context.
    fn special_case(
        &self,
        word: &str,
        tag: Option<&str>,
        stress: Option<StressLevel>,
        ctx: Context,
    ) -> Option<String> {
        let gold = |w: &str, t: &str| {
            self.lexicon
                .gold(w)
                .and_then(|e| e.for_tag(t))
                .map(String::from)
        };
        // Dotted acronyms: "U.S.", "a.m.".
        let inner = word.trim_matches('.');
        if inner.contains('.')
            && inner.chars().all(|c| c.is_ascii_alphabetic() || c == '.')
            && inner.split('.').all(|p| p.chars().count() < 3)
        {
            return self.get_nnp(word);
        }
        Some(match word {
            // "a" is the article unless nothing follows ("plan A.").
            "a" | "A" if ctx.future_vowel.is_none() && word == "A" => "ˈA".into(),
            "a" | "A" => "ɐ".into(),
            "am" | "Am" | "AM" => {
                if ctx.future_vowel.is_none() || word != "am" || stress.is_some_and(|s| s > 0.0) {
                    gold("am", "DEFAULT")?
                } else {
                    "ɐm".into()
                }
            }
            "an" | "An" | "AN" => "ɐn".into(),
            "I" => "ˌI".into(),
            "by" | "By" | "BY" if ctx.future_vowel.is_none() => "bˈI".into(),
            "to" | "To" | "TO" => match ctx.future_vowel {
                None => gold("to", "DEFAULT")?,
                Some(false) => "tə".into(),
                Some(true) => "tʊ".into(),
            },
            "in" | "In" | "IN" => {
                if ctx.future_vowel.is_none() {
                    "ˈɪn".into()
                } else {
                    "ɪn".into()
                }
            }
            "the" | "The" | "THE" => {
                if ctx.future_vowel == Some(true) {
                    "ði".into()
                } else {
                    "ðə".into()
                }
            }
            "vs" | "Vs" | "VS" => return self.lookup("versus", None, None, ctx).map(|p| p.0),
            "used" | "Used" | "USED" => {
                if ctx.future_to && tag != Some("VBN") {
                    gold("used", "VBD")?
                } else {
                    gold("used", "DEFAULT")?
                }
            }
            _ => return None,
        })
    }

    /// misaki's `is_known`.
    fn is_known(&self, word: &str) -> bool {
        if self.lexicon.contains(word) || matches!(word, "%" | "&" | "+" | "@") {
            return true;
        }
        if !word.chars().all(|c| c.is_ascii_alphabetic()) {
            return false;
        }
        if word.chars().count() == 1 {
            return true;
        }
        if word == word.to_uppercase() && self.lexicon.gold(&word.to_lowercase()).is_some() {
            return true;
        }
        tail(word) == tail(word).to_uppercase()
    }

    /// misaki's `lookup`: gold, then silver, then spelling for acronyms.
    fn lookup(
        &self,
        word: &str,
        tag: Option<&str>,
        stress: Option<StressLevel>,
        ctx: Context,
    ) -> Option<(String, Tier)> {
        let mut word = word.to_string();
        let mut is_nnp = false;
        if word == word.to_uppercase() && self.lexicon.gold(&word).is_none() {
            word = word.to_lowercase();
            // spaCy tags most all-capitals words it does not know as proper nouns.
            is_nnp = tag == Some("NNP");
        }
        let found = match self.lexicon.gold(&word) {
            Some(e) => Some((e, Tier::Gold)),
            None if !is_nnp => self.lexicon.silver(&word).map(|e| (e, Tier::Silver)),
            None => None,
        };
        let ps = found.and_then(|(entry, tier)| {
            let ps = match entry {
                Entry::Plain(p) => Some(p.as_str()),
                Entry::Tagged(_) => {
                    let t = if ctx.future_vowel.is_none() && entry.has_tag("None") {
                        "None"
                    } else {
                        match tag {
                            Some(t) if entry.has_tag(t) => t,
                            Some(t) => parent_tag(t),
                            None => "DEFAULT",
                        }
                    };
                    entry.for_tag(t)
                }
            };
            ps.map(|p| (p.to_string(), tier))
        });
        match ps {
            Some((p, tier)) if !is_nnp || p.contains(PRIMARY) => {
                Some((apply_stress(&p, stress), tier))
            }
            _ => self.get_nnp(&word).map(|p| (p, Tier::Silver)),
        }
    }

    /// Spells `word` with the gold lexicon's letter names, stressed as an acronym:
    /// "fbi" → "ˌɛfbˌiˈI".
    fn get_nnp(&self, word: &str) -> Option<String> {
        let mut ps = String::new();
        for c in word.chars().filter(|c| c.is_alphabetic()) {
            let letter = c.to_uppercase().to_string();
            ps.push_str(self.lexicon.gold(&letter)?.for_tag("DEFAULT")?);
        }
        if ps.is_empty() {
            return None;
        }
        let ps = apply_stress(&ps, Some(0.0));
        Some(match ps.rfind(SECONDARY) {
            Some(i) => format!("{}{PRIMARY}{}", &ps[..i], &ps[i + SECONDARY.len_utf8()..]),
            None => ps,
        })
    }

    /// `-s`: plurals, third person, possessives.
    fn stem_s(
        &self,
        word: &str,
        tag: Option<&str>,
        stress: Option<StressLevel>,
        ctx: Context,
    ) -> Option<(String, Tier)> {
        // The lexicons are ASCII; byte offsets below rely on it.
        if word.len() < 3 || !word.ends_with('s') || !word.is_ascii() {
            return None;
        }
        let n = word.len();
        let stem = if !word.ends_with("ss") && self.is_known(&word[..n - 1]) {
            word[..n - 1].to_string()
        } else if (word.ends_with("'s")
            || (n > 4 && word.ends_with("es") && !word.ends_with("ies")))
            && self.is_known(&word[..n - 2])
        {
            word[..n - 2].to_string()
        } else if n > 4 && word.ends_with("ies") && self.is_known(&format!("{}y", &word[..n - 3])) {
            format!("{}y", &word[..n - 3])
        } else {
            return None;
        };
        let (ps, tier) = self.lookup(&stem, tag, stress, ctx)?;
        Some((suffix_s(&ps, self.lexicon.accent())?, tier))
    }

    /// `-ed`: past tense and participles.
    fn stem_ed(
        &self,
        word: &str,
        tag: Option<&str>,
        stress: Option<StressLevel>,
        ctx: Context,
    ) -> Option<(String, Tier)> {
        if word.len() < 4 || !word.ends_with('d') || !word.is_ascii() {
            return None;
        }
        let n = word.len();
        let stem = if !word.ends_with("dd") && self.is_known(&word[..n - 1]) {
            &word[..n - 1]
        } else if n > 4
            && word.ends_with("ed")
            && !word.ends_with("eed")
            && self.is_known(&word[..n - 2])
        {
            &word[..n - 2]
        } else {
            return None;
        };
        let (ps, tier) = self.lookup(stem, tag, stress, ctx)?;
        Some((suffix_ed(&ps, self.lexicon.accent())?, tier))
    }

    /// `-ing`: present participles, with a dropped `e` or a doubled consonant.
    fn stem_ing(
        &self,
        word: &str,
        tag: Option<&str>,
        stress: Option<StressLevel>,
        ctx: Context,
    ) -> Option<(String, Tier)> {
        if word.len() < 5 || !word.ends_with("ing") || !word.is_ascii() {
            return None;
        }
        let n = word.len();
        let bytes = word.as_bytes();
        let doubled = n > 5
            && ((bytes[n - 4] == bytes[n - 5] && b"bcdgklmnprstvxz".contains(&bytes[n - 4]))
                || word.ends_with("cking"));
        let stem = if n > 5 && self.is_known(&word[..n - 3]) {
            word[..n - 3].to_string()
        } else if self.is_known(&format!("{}e", &word[..n - 3])) {
            format!("{}e", &word[..n - 3])
        } else if doubled && self.is_known(&word[..n - 4]) {
            word[..n - 4].to_string()
        } else {
            return None;
        };
        let (ps, tier) = self.lookup(&stem, tag, stress, ctx)?;
        Some((suffix_ing(&ps, self.lexicon.accent())?, tier))
    }

    /// A number the normaliser did not turn into words: digits inside a word ("MP3",
    /// "COVID-19"), or a bare number. As misaki, a number inside a word (not `is_head`) is
    /// read digit by digit when it starts with 0 or has more than three digits, and "907" is
    /// "nine oh seven".
    fn number(&self, word: &str, is_head: bool) -> String {
        let plain: String = word.chars().filter(|&c| c != ',').collect();
        let words = if let Some(rest) = plain.strip_prefix('-') {
            format!(
                "minus {}",
                crate::normalize::number_words(rest).unwrap_or_else(|| numbers::digits(rest))
            )
        } else if !is_head && !plain.contains('.') {
            if plain.starts_with('0') || plain.len() > 3 {
                numbers::digits(&plain)
            } else if plain.len() == 3 && !plain.ends_with("00") {
                let (first, rest) = plain.split_at(1);
                match rest.strip_prefix('0') {
                    Some(last) => {
                        format!("{} oh {}", numbers::digits(first), numbers::digits(last))
                    }
                    None => format!(
                        "{} {}",
                        numbers::digits(first),
                        numbers::integer(rest).unwrap_or_default()
                    ),
                }
            } else {
                numbers::integer(&plain).unwrap_or_default()
            }
        } else {
            crate::normalize::number_words(&plain).unwrap_or_else(|| numbers::digits(&plain))
        };
        words
            .split(' ')
            .filter(|w| !w.is_empty())
            .filter_map(|w| {
                let stress = (w == "point" || w == "oh").then_some(-2.0);
                self.lookup(w, None, stress, Context::default())
                    .map(|p| p.0)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The Penn Treebank tag misaki's spaCy tagger would most likely give a word after `prev`,
/// for heteronyms ("to record" VB, "the record" NN, "I read" VBP, "was read" VBN). `None`
/// when the previous word says nothing; the entry's `DEFAULT` is used then.
fn guess_tag(prev: Option<&str>, prev2: Option<&str>) -> Option<&'static str> {
    let prev = prev?.to_lowercase();
    const BASE_VERB_BEFORE: &[&str] = &[
        "to", "not", "never", "will", "would", "can", "could", "should", "must", "might", "may",
        "shall", "do", "does", "did", "don't", "doesn't", "didn't", "won't", "can't", "cannot",
        "let's", "please", "i'll", "you'll", "we'll", "they'll", "he'll", "she'll",
    ];
    const PRESENT_VERB_BEFORE: &[&str] = &["i", "you", "we", "they", "people"];
    const THIRD_PERSON_BEFORE: &[&str] = &["he", "she", "it", "who"];
    const PARTICIPLE_BEFORE: &[&str] = &[
        "is", "was", "are", "were", "be", "been", "being", "am", "has", "have", "had", "it's",
        "he's", "she's", "i'm", "you're", "we're", "they're", "i've", "you've", "we've", "they've",
        "get", "got", "gets",
    ];
    const NOUN_BEFORE: &[&str] = &[
        "the", "a", "an", "my", "your", "his", "her", "its", "our", "their", "this", "these",
        "those", "some", "any", "no", "every", "each", "of", "for", "with", "in", "on", "at",
        "from", "into", "about", "new", "old", "good", "great",
    ];
    // "to produce produce": the word after a verb is its object.
    let after_verb = prev2.is_some_and(|p| {
        let p = p.to_lowercase();
        ["to", "will", "would", "can", "could", "should", "must"].contains(&p.as_str())
    });
    if BASE_VERB_BEFORE.contains(&prev.as_str()) {
        Some("VB")
    } else if after_verb && !NOUN_BEFORE.contains(&prev.as_str()) && !prev.ends_with("ly") {
        Some("NN")
    } else if PRESENT_VERB_BEFORE.contains(&prev.as_str()) {
        Some("VBP")
    } else if THIRD_PERSON_BEFORE.contains(&prev.as_str()) {
        Some("VBZ")
    } else if PARTICIPLE_BEFORE.contains(&prev.as_str()) {
        Some("VBN")
    } else if NOUN_BEFORE.contains(&prev.as_str()) {
        Some("NN")
    } else {
        None
    }
}

/// misaki's `get_parent_tag`.
fn parent_tag(tag: &str) -> &str {
    if tag.starts_with("VB") {
        "VERB"
    } else if tag.starts_with("NN") {
        "NOUN"
    } else if tag.starts_with("ADV") || tag.starts_with("RB") {
        "ADV"
    } else if tag.starts_with("ADJ") || tag.starts_with("JJ") {
        "ADJ"
    } else {
        tag
    }
}

/// The reduced vowel of `-es` and `-ed`: misaki writes `ᵻ` for American, `ɪ` for British.
fn reduced_i(accent: Accent) -> char {
    match accent {
        Accent::American => 'ᵻ',
        Accent::British => 'ɪ',
    }
}

/// `-s` after a stem's phonemes (wiktionary's rule, as misaki).
fn suffix_s(stem: &str, accent: Accent) -> Option<String> {
    let last = stem.chars().last()?;
    Some(if "ptkfθ".contains(last) {
        format!("{stem}s")
    } else if "szʃʒʧʤ".contains(last) {
        format!("{stem}{}z", reduced_i(accent))
    } else {
        format!("{stem}z")
    })
}

/// Vowels (and /ɹ/) after which a US /t/ is flapped.
fn is_us_tau(c: char) -> bool {
    "AIOWYiuæɑəɛɪɹʊʌ".contains(c)
}

/// `-ed` after a stem's phonemes.
fn suffix_ed(stem: &str, accent: Accent) -> Option<String> {
    let chars: Vec<char> = stem.chars().collect();
    let last = *chars.last()?;
    Some(if "pkfθʃsʧ".contains(last) {
        format!("{stem}t")
    } else if last == 'd' {
        format!("{stem}{}d", reduced_i(accent))
    } else if last != 't' {
        format!("{stem}d")
    } else if accent == Accent::British || chars.len() < 2 {
        format!("{stem}ɪd")
    } else if is_us_tau(chars[chars.len() - 2]) {
        format!("{}ɾᵻd", &stem[..stem.len() - 1])
    } else {
        format!("{stem}ᵻd")
    })
}

/// `-ing` after a stem's phonemes.
fn suffix_ing(stem: &str, accent: Accent) -> Option<String> {
    let chars: Vec<char> = stem.chars().collect();
    if chars.is_empty() {
        return None;
    }
    let n = chars.len();
    if accent == Accent::British {
        // misaki leaves a British stem ending in a long or schwa vowel to the fallback.
        return (!"əː".contains(chars[n - 1])).then(|| format!("{stem}ɪŋ"));
    }
    Some(if n > 1 && chars[n - 1] == 't' && is_us_tau(chars[n - 2]) {
        format!("{}ɾɪŋ", &stem[..stem.len() - 1])
    } else {
        format!("{stem}ɪŋ")
    })
}

/// The context for the word before one pronounced `ps`.
fn next_context(ctx: Context, ps: &str, word: &str) -> Context {
    let mut future_vowel = ctx.future_vowel;
    if let Some(c) = ps
        .chars()
        .find(|&c| is_vowel(c) || is_consonant(c) || PAUSES.contains(&c))
    {
        future_vowel = if PAUSES.contains(&c) {
            None
        } else {
            Some(is_vowel(c))
        };
    }
    Context {
        future_vowel,
        future_to: matches!(word, "to" | "To" | "TO"),
    }
}

/// The word before token `i`, if no punctuation comes between.
fn previous_word<'a>(tokens: &[(Token<'a>, bool)], i: usize) -> Option<&'a str> {
    match tokens.get(i.checked_sub(1)?)?.0 {
        Token::Word(w) => Some(w),
        Token::Punct(_) => None,
    }
}

/// The word after token `i`, if no punctuation comes between.
fn next_word<'a>(tokens: &[(Token<'a>, bool)], i: usize) -> Option<&'a str> {
    match tokens.get(i + 1)?.0 {
        Token::Word(w) => Some(w),
        Token::Punct(_) => None,
    }
}

/// Whether `word` is a number misaki would read (digits, commas, a point, a leading minus).
fn is_number(word: &str, is_head: bool) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
        && word.char_indices().all(|(i, c)| {
            c.is_ascii_digit() || c == ',' || c == '.' || (is_head && i == 0 && c == '-')
        })
}

/// Joins the phonemes of a word's pieces as misaki's `resolve_tokens`: with spaces when the
/// word mixes letters and digits, else run together with the primary stress kept on the
/// stronger half.
fn resolve_pieces(pieces: &[&str], phonemes: Vec<Option<String>>) -> String {
    let text: String = pieces.concat();
    let classes: std::collections::HashSet<u8> = text
        .chars()
        .filter(|c| !JUNK.contains(c))
        .map(|c| {
            if c.is_alphabetic() {
                0
            } else if c.is_ascii_digit() {
                1
            } else {
                2
            }
        })
        .collect();
    let spaced = text.contains('/') || classes.len() > 1;
    let mut parts: Vec<String> = phonemes
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
    if spaced {
        return parts.join(" ");
    }
    let mut ranked: Vec<(bool, usize, usize)> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| (p.contains(PRIMARY), stress_weight(p), i))
        .collect();
    if ranked.len() == 2 && pieces.first().is_some_and(|p| p.chars().count() == 1) {
        parts[1] = apply_stress(&parts[1], Some(-0.5));
    } else if ranked.len() >= 2 && ranked.iter().filter(|r| r.0).count() > ranked.len().div_ceil(2)
    {
        ranked.sort();
        for &(_, _, i) in &ranked[..ranked.len() / 2] {
            parts[i] = apply_stress(&parts[i], Some(-0.5));
        }
    }
    parts.concat()
}

/// Splits a word into misaki's sub-tokens: letter runs (split at camel-case boundaries, with
/// inner apostrophes), digit runs (with inner `,` `.`), hyphen/underscore runs, single other
/// characters.
pub(crate) fn subtokenize(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let end_of = |k: usize| chars.get(k).map_or(word.len(), |&(i, _)| i);
    let mut out = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let (start, c) = chars[k];
        let mut j = k + 1;
        let negation = c == 'n'
            && chars.get(k + 1).is_some_and(|n| n.1 == '\'')
            && chars.get(k + 2).is_some_and(|n| n.1 == 't');
        if negation {
            j = k + 3;
        } else if c.is_alphabetic() {
            // "IPhone": a capital followed by a capitalised word stands alone.
            let lone_capital = c.is_uppercase()
                && chars.get(k + 1).is_some_and(|n| n.1.is_uppercase())
                && chars.get(k + 2).is_some_and(|n| n.1.is_lowercase());
            while !lone_capital && j < chars.len() {
                let d = chars[j].1;
                if d.is_alphabetic() {
                    // camelCase: a lower-case letter followed by an upper-case one.
                    if chars[j - 1].1.is_lowercase() && d.is_uppercase() {
                        break;
                    }
                    j += 1;
                } else {
                    break;
                }
            }
            // spaCy splits "n't" off ("don" + "'t" would not be found): "can't" → "ca", "n't".
            if j > k + 1
                && chars[j - 1].1 == 'n'
                && chars.get(j).is_some_and(|n| n.1 == '\'')
                && chars.get(j + 1).is_some_and(|n| n.1 == 't')
            {
                j -= 1;
            }
        } else if c == '\'' && k > 0 && chars.get(j).is_some_and(|n| n.1.is_alphabetic()) {
            // An apostrophe suffix: "'s", "'ve", "'d".
            while j < chars.len() && chars[j].1.is_alphabetic() {
                j += 1;
            }
        } else if c.is_ascii_digit() {
            while j < chars.len() {
                let d = chars[j].1;
                if d.is_ascii_digit() {
                    j += 1;
                } else if (d == ',' || d == '.')
                    && chars.get(j + 1).is_some_and(|n| n.1.is_ascii_digit())
                {
                    j += 2;
                } else {
                    break;
                }
            }
        } else if c == '-' || c == '_' {
            while j < chars.len() && (chars[j].1 == '-' || chars[j].1 == '_') {
                j += 1;
            }
        } else if c == '\'' {
            while j < chars.len() && chars[j].1 == '\'' {
                j += 1;
            }
        }
        out.push(&word[start..end_of(j)]);
        k = j;
    }
    out
}

/// Splits normalised text into words and punctuation, each with "a space follows".
/// A word followed by a dot that the lexicon knows with its dot ("Mr.", "Ms.", "No.") keeps
/// the dot when more text follows (spaCy's tokenizer exceptions do the same).
fn tokenize<'a>(text: &'a str, lexicon: &Lexicon) -> Vec<(Token<'a>, bool)> {
    let mut tokens: Vec<(Token, bool)> = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (start, c) = chars[k];
        if c.is_whitespace() {
            if let Some(last) = tokens.last_mut() {
                last.1 = true;
            }
            k += 1;
            continue;
        }
        if PUNCTUATION.contains(&c) {
            tokens.push((Token::Punct(c), false));
            k += 1;
            continue;
        }
        let mut j = k;
        while j < chars.len() {
            let d = chars[j].1;
            if d.is_whitespace() {
                break;
            }
            if PUNCTUATION.contains(&d) {
                // A dot inside a word ("U.S.", "e.g", "3.5") belongs to it.
                let next_is_word = chars.get(j + 1).is_some_and(|n| n.1.is_alphanumeric());
                let closes_acronym =
                    d == '.' && j >= 2 && chars[j - 2].1 == '.' && chars[j - 1].1.is_alphabetic();
                if (d == '.' || d == ',') && next_is_word && j > k {
                    j += 1;
                    continue;
                }
                let more_follows = chars[j + 1..].iter().any(|n| !n.1.is_whitespace());
                let known_with_dot = d == '.'
                    && j > k
                    && more_follows
                    && lexicon.contains(&text[start..chars[j].0 + 1]);
                if closes_acronym || known_with_dot {
                    j += 1;
                }
                break;
            }
            j += 1;
        }
        let end = chars.get(j).map_or(text.len(), |&(i, _)| i);
        tokens.push((Token::Word(&text[start..end]), false));
        k = j;
    }
    tokens
}

/// misaki 0.9.4's final substitutions for Kokoro v1.0, then the vocabulary filter.
fn finish(phonemes: &str) -> String {
    let ps = phonemes.replace('ɾ', "T").replace('ʔ', "t");
    let ps = vocab::retain_vocab(&ps);
    // Collapse spaces left by removed symbols.
    let mut out = String::with_capacity(ps.len());
    for c in ps.chars() {
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.trim_end().to_string()
}

/// `word` without its first character.
fn tail(word: &str) -> &str {
    word.char_indices().nth(1).map_or("", |(i, _)| &word[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        let gold = r#"{
            "hello": "həlˈO", "world": "wˈɜɹld", "the": "ði", "to": "tu", "am": "æm",
            "cat": "kˈæt", "dog": "dˈɔɡ", "bus": "bˈʌs", "want": "wˈɑnt", "wait": "wˈAt",
            "jump": "ʤˈʌmp", "go": "ɡˈO", "apple": "ˈæpᵊl", "well": "wˈɛl", "known": "nˈOn",
            "read": {"DEFAULT": "ɹˈid", "VBD": "ɹˈɛd"},
            "lead": {"DEFAULT": "lˈid", "NOUN": "lˈɛd"},
            "used": {"DEFAULT": "jˈuzd", "VBD": "jˈust"},
            "versus": "vˈɜɹsəs", "three": "θɹˈi", "NASA": "nˈæsə",
            "A": "ˈA", "B": "bˈi", "F": "ˈɛf", "I": "ˈI", "M": "ˈɛm", "P": "pˈi", "S": "ˈɛs",
            "U": "jˈu", "K": "kˈA", "O": "ˈO", "R": "ˈɑɹ"
        }"#;
        Lexicon::from_json(gold, r#"{"kokoro": "kəkˈɔɹO"}"#).unwrap()
    }

    fn g2p() -> G2p {
        G2p::new(lexicon(), Fallback::Spell)
    }

    #[test]
    fn lexicon_words_and_punctuation() {
        let g = g2p();
        assert_eq!(g.phonemize("Hello, world!"), "həlˈO, wˈɜɹld!");
        assert_eq!(g.phonemize("“hello” (world)…"), "“həlˈO” (wˈɜɹld)…");
        assert_eq!(g.phonemize("kokoro"), "kəkˈɔɹO");
    }

    #[test]
    fn context_dependent_function_words() {
        let g = g2p();
        assert_eq!(g.phonemize("the apple"), "ði ˈæpᵊl");
        assert_eq!(g.phonemize("the cat"), "ðə kˈæt");
        assert_eq!(g.phonemize("a cat"), "ɐ kˈæt");
        assert_eq!(g.phonemize("to go"), "tə ɡˈO");
        assert_eq!(g.phonemize("to apple"), "tʊ ˈæpᵊl");
        assert_eq!(g.phonemize("want to."), "wˈɑnt tu.");
        assert_eq!(g.phonemize("I am."), "ˌI æm.");
        assert_eq!(g.phonemize("cats vs dogs"), "kˈæts vˈɜɹsəs dˈɔɡz");
        assert_eq!(g.phonemize("used to"), "jˈust tu");
    }

    #[test]
    fn heteronyms() {
        let g = g2p();
        assert_eq!(g.phonemize("read"), "ɹˈid");
        assert_eq!(g.phonemize("the lead"), "ðə lˈɛd");
        assert_eq!(g.phonemize("to lead"), "tə lˈid");
    }

    #[test]
    fn morphology() {
        let g = g2p();
        for (word, want) in [
            ("cats", "kˈæts"),
            ("dogs", "dˈɔɡz"),
            ("buses", "bˈʌsᵻz"),
            ("cat's", "kˈæts"),
            ("dogs'", "dˈɔɡz"),
            ("jumped", "ʤˈʌmpt"),
            ("wanted", "wˈɑntᵻd"),
            ("waited", "wˈATᵻd"),
            ("jumping", "ʤˈʌmpɪŋ"),
            ("waiting", "wˈATɪŋ"),
        ] {
            assert_eq!(g.phonemize(word), want, "{word}");
        }
    }

    #[test]
    fn british_suffixes_do_not_flap_and_keep_a_full_i() {
        // misaki's `british=True`: `ɪ` for `ᵻ`, and /t/ stays /t/ before -ed and -ing.
        let g = G2p::new(lexicon().with_accent(Accent::British), Fallback::Spell);
        for (word, want) in [
            ("cats", "kˈæts"),
            ("buses", "bˈʌsɪz"),
            ("wanted", "wˈɑntɪd"),
            ("waited", "wˈAtɪd"),
            ("waiting", "wˈAtɪŋ"),
            ("jumping", "ʤˈʌmpɪŋ"),
        ] {
            assert_eq!(g.phonemize(word), want, "{word}");
        }
    }

    #[test]
    fn case_and_acronyms() {
        let g = g2p();
        assert_eq!(g.phonemize("HELLO"), "həlˈO");
        assert_eq!(g.phonemize("NASA"), "nˈæsə");
        assert_eq!(g.phonemize("FBI"), "ˌɛfbˌiˈI");
        assert_eq!(g.phonemize("U.S."), "jˌuˈɛs");
        assert_eq!(g.phonemize("p.m."), "pˌiˈɛm");
    }

    #[test]
    fn compounds_and_mixed_tokens() {
        let g = g2p();
        assert_eq!(g.phonemize("well-known"), "wˌɛlnˈOn");
        assert_eq!(g.phonemize("MP3"), "ˌɛmpˈi θɹˈi");
    }

    #[test]
    fn unknown_words_are_spelled_without_espeak() {
        let g = g2p();
        assert_eq!(g.phonemize("Brk"), "bˌiˌɑɹkˈA");
        assert_eq!(g.phonemize("catdog"), "kˈætdˌɔɡ");
        assert_eq!(g.phonemize("applecatdog"), "ˈæpᵊlkˌætdˌɔɡ");
        assert_eq!(g.phonemize("😀"), "");
    }

    #[test]
    fn output_is_in_vocab() {
        let g = g2p();
        let ps = g.phonemize("hello ❓ world ¿ waited");
        assert!(ps.chars().all(vocab::in_vocab), "{ps}");
    }

    #[test]
    fn subtokens() {
        assert_eq!(subtokenize("well-known"), ["well", "-", "known"]);
        assert_eq!(subtokenize("McDonald"), ["Mc", "Donald"]);
        assert_eq!(subtokenize("XMLHttp"), ["XMLHttp"]);
        assert_eq!(subtokenize("IPhone"), ["I", "Phone"]);
        assert_eq!(subtokenize("MP3"), ["MP", "3"]);
        assert_eq!(subtokenize("COVID-19"), ["COVID", "-", "19"]);
        assert_eq!(subtokenize("don't"), ["do", "n't"]);
        assert_eq!(subtokenize("I'd've"), ["I", "'d", "'ve"]);
        assert_eq!(subtokenize("'hello'"), ["'", "hello", "'"]);
        assert_eq!(subtokenize("3.5"), ["3.5"]);
    }
}
