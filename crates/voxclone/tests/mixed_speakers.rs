//! One reference file holding two voices is flagged from the spread of its partial d-vectors;
//! one voice, however long, is not. On the 100 LibriSpeech test-other clips and on files made
//! by joining two speakers' clips.

use voxclone::clone::{split_partials, two_voices_in};
use voxclone::weights::{ModelStore, NoProgress};
use voxclone::Voxclone;
use voxclone_testdata::Ge2eGolden;

#[test]
fn two_speakers_in_one_file_are_found_and_one_speaker_is_not() {
    let vc = Voxclone::load(
        &ModelStore::from_env().unwrap(),
        &candle_core::Device::Cpu,
        &NoProgress,
    )
    .unwrap();
    let golden = Ge2eGolden::load();
    // Clips of each speaker, in the golden order (10 speakers × 10 clips).
    let wavs: Vec<Vec<f32>> = golden
        .clips
        .iter()
        .map(|c| vc.prepare_reference(c).unwrap())
        .collect();
    let partials = |wav: &[f32]| vc.encoder().embed_utterance(wav).unwrap().partials;

    // One speaker: each clip, and each speaker's first two clips joined.
    let mut false_alarms = Vec::new();
    for (i, wav) in wavs.iter().enumerate() {
        if let Some(c) = two_voices_in(&partials(wav)) {
            false_alarms.push((golden.clips[i].display().to_string(), c));
        }
    }
    for s in 0..10 {
        let joined = [wavs[10 * s].clone(), wavs[10 * s + 1].clone()].concat();
        eprintln!("one speaker {s}: {:?}", split_partials(&partials(&joined)));
        if let Some(c) = two_voices_in(&partials(&joined)) {
            false_alarms.push((format!("speaker {s} clips 0+1"), c));
        }
    }
    // One clip, 3005-163389-0008, is flagged: its reader voices a character.
    assert!(
        false_alarms.len() <= 1,
        "one speaker flagged: {false_alarms:?}"
    );

    // Two speakers: speaker s's longest clip then speaker s+1's.
    let longest = |s: usize| {
        (10 * s..10 * s + 10)
            .max_by_key(|&i| wavs[i].len())
            .map(|i| wavs[i].clone())
            .unwrap()
    };
    let mut missed = Vec::new();
    for s in 0..10 {
        let joined = [longest(s), longest((s + 1) % 10)].concat();
        eprintln!("two speakers {s}: {:?}", split_partials(&partials(&joined)));
        if two_voices_in(&partials(&joined)).is_none() {
            missed.push(s);
        }
    }
    assert!(
        missed.is_empty(),
        "two speakers not flagged for pairs starting at {missed:?}"
    );
}
