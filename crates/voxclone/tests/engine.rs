//! The library's front door end to end: one `Engine` from the weight store embeds a reference,
//! clones its voice zero-shot and speaks with it, and the clone is closer to the speaker than
//! the default voice is.

use std::path::{Path, PathBuf};

use voxclone::clone::CloneOptions;
use voxclone::weights::{ModelStore, NoProgress};
use voxclone::{Engine, EngineConfig, SpeakOptions};

fn speech(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/speech")
        .join(name)
}

#[test]
fn an_engine_embeds_clones_and_speaks() {
    let engine = Engine::load(
        &ModelStore::from_env().unwrap(),
        &EngineConfig::default(),
        &NoProgress,
    )
    .unwrap();
    let reference = speech("2414-128291-0000.flac");
    let held_out = engine
        .embed_file(&speech("2414-128291-0003.flac"))
        .unwrap()
        .embedding;

    let (profile, report) = engine
        .clone_voice(
            std::slice::from_ref(&reference),
            "2414",
            &CloneOptions::default(),
            &mut |_, _| true,
        )
        .unwrap();
    assert!(
        profile.method.starts_with("speaker-encoding:"),
        "{}",
        profile.method
    );
    assert_eq!(report.d_vector.as_slice().len(), 256);

    let options = SpeakOptions {
        pitch: profile.pitch,
        ..SpeakOptions::default()
    };
    let text = "The quick brown fox jumps over the lazy dog.";
    let cloned = engine.speak(text, &profile.voice_pack(), options).unwrap();
    let default_voice = engine.tts().voice(voxclone::voices::DEFAULT_VOICE).unwrap();
    let stock = engine
        .speak(text, &default_voice, SpeakOptions::default())
        .unwrap();
    // About three seconds of 24 kHz speech each.
    for audio in [&cloned, &stock] {
        assert!(
            audio.len() > 24_000 && audio.len() < 24_000 * 8,
            "{}",
            audio.len()
        );
    }
    let likeness = |audio: Vec<f32>| {
        voxclone::clone::embed_synthesized(engine.encoder(), audio)
            .unwrap()
            .cosine(&held_out)
    };
    let (clone_sim, stock_sim) = (likeness(cloned), likeness(stock));
    eprintln!(
        "GE2E cosine to the held-out clip: clone {clone_sim:.3}, {} {stock_sim:.3}",
        voxclone::voices::DEFAULT_VOICE
    );
    // Speaker 2414 is male; the default voice is female.
    assert!(
        clone_sim > stock_sim,
        "clone {clone_sim} vs stock {stock_sim}"
    );
}
