//! `voxclone_text::rtvc` against Real-Time-Voice-Cloning's own text front-end (english_cleaners
//! with inflect 5.3.0 and Unidecode 1.3.2, then symbol ids), on the cases of
//! `tests/data/rtvc_cleaners.json` written by `scripts/golden_rtvc_text.py`. Every case must
//! agree exactly; all disagreements are listed at once.

use serde_json::Value;
use voxclone_text::rtvc;

const GOLDEN: &str = include_str!("data/rtvc_cleaners.json");

struct Case {
    input: String,
    cleaned: String,
    ids: Vec<u32>,
}

fn cases() -> Vec<Case> {
    let rows: Vec<Value> = serde_json::from_str(GOLDEN).expect("golden JSON");
    rows.iter()
        .map(|row| Case {
            input: row["input"].as_str().expect("input").to_owned(),
            cleaned: row["cleaned"].as_str().expect("cleaned").to_owned(),
            ids: row["ids"]
                .as_array()
                .expect("ids")
                .iter()
                .map(|id| id.as_u64().expect("id") as u32)
                .collect(),
        })
        .collect()
}

#[test]
fn matches_rtvc_on_every_golden_case() {
    let cases = cases();
    assert!(cases.len() >= 50, "golden set too small: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let cleaned = rtvc::english_cleaners(&case.input);
        if cleaned != case.cleaned {
            failures.push(format!(
                "cleaned {:?}\n   want {:?}\n    got {:?}",
                case.input, case.cleaned, cleaned
            ));
        }
        // The golden ids are for the stripped input, as RTVC strips before converting.
        let ids = rtvc::text_to_sequence(&case.input);
        if ids != case.ids {
            failures.push(format!(
                "ids {:?}\n   want {:?}\n    got {:?}",
                case.input, case.ids, ids
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} checks differ from RTVC:\n{}",
        failures.len(),
        2 * cases.len(),
        failures.join("\n")
    );
}

#[test]
fn ids_are_in_the_table_and_end_with_eos() {
    for case in cases() {
        let ids = rtvc::text_to_sequence(&case.input);
        assert_eq!(ids.last(), Some(&rtvc::EOS_ID), "{:?}", case.input);
        let body = &ids[..ids.len() - 1];
        assert!(
            body.iter()
                .all(|&id| id > rtvc::EOS_ID && (id as usize) < rtvc::num_symbols()),
            "{:?} → {ids:?}",
            case.input
        );
    }
}

#[test]
fn symbol_table_is_rtvcs() {
    assert_eq!(rtvc::num_symbols(), 66);
    assert_eq!(rtvc::SYMBOLS.as_bytes()[rtvc::PAD_ID as usize], b'_');
    assert_eq!(rtvc::SYMBOLS.as_bytes()[rtvc::EOS_ID as usize], b'~');
    assert_eq!(rtvc::text_to_sequence(""), vec![rtvc::EOS_ID]);
}
