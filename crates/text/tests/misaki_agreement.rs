//! voxclone-text against misaki 0.9.4 itself, on the sentences of `tests/data/misaki_golden.tsv`
//! (written by `scripts/compare_g2p_misaki.py --write-golden`), and the front door on real
//! lexicons.
//!
//! The lexicons come from `ModelStore::misaki_lexicons` (the misaki wheel on PyPI, cached), so
//! these tests run from a clean clone. They use the spelling fallback, so their result does
//! not depend on whether espeak-ng is installed.

use std::sync::OnceLock;
use voxclone_text::{vocab, Fallback, Frontend, Lexicon, MAX_PHONEMES};
use voxclone_weights::{ModelStore, NoProgress};

/// Word-level agreement measured on the 218 golden sentences with the spelling fallback
/// (98.0% overall; 99.8% on the Harvard sentences); the thresholds leave a little room.
const MIN_WORD_AGREEMENT: f64 = 0.975;
const MIN_HARVARD_AGREEMENT: f64 = 0.99;
/// With espeak-ng for unknown words, as misaki itself: 98.8% measured (espeak-ng 1.51).
const MIN_WORD_AGREEMENT_ESPEAK: f64 = 0.98;

fn lexicon() -> Lexicon {
    let store = ModelStore::from_env().expect("model store");
    let paths = store
        .misaki_lexicons(&NoProgress)
        .expect("misaki lexicons (fetched from PyPI on first use)");
    Lexicon::load(&paths.us_gold, &paths.us_silver).expect("lexicon")
}

fn frontend() -> &'static Frontend {
    static FRONTEND: OnceLock<Frontend> = OnceLock::new();
    FRONTEND.get_or_init(|| Frontend::with_fallback(lexicon(), Fallback::Spell))
}

/// Phoneme words without punctuation, as `scripts/compare_g2p_misaki.py` splits them.
fn words(phonemes: &str) -> Vec<String> {
    phonemes
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| !";:,.!?—…\"()“”".contains(*c))
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

fn lcs(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    for x in a {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        prev = cur;
    }
    prev[b.len()]
}

struct Golden {
    category: String,
    sentence: String,
    misaki: String,
}

fn golden() -> Vec<Golden> {
    include_str!("data/misaki_golden.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            let (c, s, p) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            Golden {
                category: c.into(),
                sentence: s.into(),
                misaki: p.into(),
            }
        })
        .collect()
}

/// Word agreement overall and on the Harvard sentences, and a report of the differences.
fn agreement(fe: &Frontend) -> (f64, f64, String) {
    let rows = golden();
    assert!(rows.len() >= 100, "{} golden sentences", rows.len());
    let (mut matched, mut total, mut h_matched, mut h_total) = (0, 0, 0, 0);
    let mut report = Vec::new();
    for row in &rows {
        let ours: Vec<String> = fe
            .chunks(&row.sentence)
            .map(|c| c.phonemes)
            .collect::<Vec<_>>();
        let ours = ours.join(" ");
        let (r, o) = (words(&row.misaki), words(&ours));
        let m = lcs(&r, &o);
        matched += m;
        total += r.len();
        if row.category == "harvard" {
            h_matched += m;
            h_total += r.len();
        }
        if m < r.len() {
            report.push(format!(
                "{}\n  misaki:   {}\n  voxclone: {ours}",
                row.sentence, row.misaki
            ));
        }
    }
    let overall = matched as f64 / total as f64;
    let harvard = h_matched as f64 / h_total as f64;
    eprintln!(
        "word agreement with misaki ({} fallback): {matched}/{total} = {:.1}% (Harvard {:.1}%)",
        fe.g2p().fallback().name(),
        100.0 * overall,
        100.0 * harvard
    );
    (overall, harvard, report.join("\n"))
}

#[test]
fn agrees_with_misaki_word_for_word() {
    let (overall, harvard, report) = agreement(frontend());
    assert!(
        overall >= MIN_WORD_AGREEMENT && harvard >= MIN_HARVARD_AGREEMENT,
        "agreement {:.1}% (Harvard {:.1}%) below {:.0}% ({:.0}%); differing sentences:\n{}",
        100.0 * overall,
        100.0 * harvard,
        100.0 * MIN_WORD_AGREEMENT,
        100.0 * MIN_HARVARD_AGREEMENT,
        report,
    );
}

#[test]
fn agrees_with_misaki_with_espeak() {
    let fallback = Fallback::detect();
    assert!(
        matches!(fallback, Fallback::Espeak(_)),
        "espeak-ng is not installed (scripts/ensure-deps.sh installs it; Debian package espeak-ng)"
    );
    let (overall, _, report) = agreement(&Frontend::with_fallback(lexicon(), fallback));
    assert!(
        overall >= MIN_WORD_AGREEMENT_ESPEAK,
        "agreement {:.1}% below {:.0}%; differing sentences:\n{report}",
        100.0 * overall,
        100.0 * MIN_WORD_AGREEMENT_ESPEAK,
    );
}

#[test]
fn everything_produced_is_in_the_vocabulary() {
    let fe = frontend();
    let text = "Ünïcödé ẞ façade — “quotes” ‘single’ 😀 Ελληνικά 中文 ½ ⅓ № ™ © ® ¶ § † ‡ • ‰ ‱ µ ∞ ≈ ≠ ≤ ≥ \
                Zyxwvut Qwrtyp xkcd-style C++ C# F# .NET node.js 0x1F 1e10 3.14.15 ---- *** ### \
                @user #tag http://example.com/a?b=c&d=e user@example.com $$$ 100$ £££ €5,00 ¥500";
    let chunks = fe.phonemize(text);
    assert!(!chunks.is_empty());
    for c in &chunks {
        assert!(c.phonemes.chars().all(vocab::in_vocab), "{:?}", c.phonemes);
        assert_eq!(c.token_ids().len(), c.phonemes.chars().count());
    }
}

#[test]
fn empty_and_unspeakable_text_gives_no_chunks() {
    let fe = frontend();
    for text in [
        "",
        "   ",
        "...",
        "!!! ???",
        "— ( ) “ ”",
        "😀😀 🎉",
        "中文 русский",
    ] {
        assert!(fe.phonemize(text).is_empty(), "{text:?}");
    }
}

#[test]
fn chunks_fit_the_model_and_carry_their_text() {
    let fe = frontend();
    let long = "This is a very long sentence that goes on and on, without ever stopping, \
                because it wants to test the chunker; "
        .repeat(30);
    let chunks = fe.phonemize(&long);
    assert!(chunks.len() > 1);
    for c in &chunks {
        assert!(c.phonemes.chars().count() <= MAX_PHONEMES);
        assert!(long.contains(&c.text));
    }
    let word = "Supercalifragilisticexpialidocious".repeat(40);
    let chunks = fe.phonemize(&word);
    assert!(chunks.len() > 1);
    assert!(chunks
        .iter()
        .all(|c| c.phonemes.chars().count() <= MAX_PHONEMES));
}

#[test]
fn a_megabyte_streams_in_linear_time() {
    let fe = frontend();
    let paragraph = "The birch canoe slid on the smooth planks. Dr. Smith paid $3.50 on Jan. 5, 2024! \
                     Did the FBI agree? It's 72°F outside; NASA's well-known rocket launched at 3:30 pm.\n\n";
    let small = paragraph.repeat(20);
    let big = paragraph.repeat((1 << 20) / paragraph.len() + 1); // 1 MB
    let time = |text: &str| {
        let start = std::time::Instant::now();
        let n: usize = fe.chunks(text).map(|c| c.phonemes.len()).sum();
        (start.elapsed().as_secs_f64(), n)
    };
    let (t_small, n_small) = time(&small);
    let (t_big, n_big) = time(&big);
    let ratio = big.len() as f64 / small.len() as f64;
    eprintln!(
        "{} bytes in {t_big:.2} s ({:.1} MB/s); {} bytes in {t_small:.3} s",
        big.len(),
        big.len() as f64 / t_big / 1e6,
        small.len()
    );
    assert!(n_big as f64 >= 0.99 * n_small as f64 * ratio);
    // Linear: the big text costs at most ~3x its share of the small one's time (+ slack).
    assert!(
        t_big <= 3.0 * t_small * ratio + 1.0,
        "{t_big} s vs {t_small} s × {ratio}"
    );
}
