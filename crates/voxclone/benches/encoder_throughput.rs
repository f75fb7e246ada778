//! Speaker-embedding throughput: seconds of audio embedded per second of wall time, on the 100
//! LibriSpeech test-other clips, model load and file decoding excluded (the audio is in memory).
//!
//! `scripts/bench-encoder.sh` runs this beside Resemblyzer and prints the ratios. Thread count comes
//! from `RAYON_NUM_THREADS`, the matrix kernel from `VOXCLONE_KERNEL` (amx, avx512, portable; default:
//! the fastest available). Prints one JSON line per mode.

use std::time::Instant;

use candle_core::Device;
use rayon::prelude::*;
use voxclone::encoder::VoiceEncoder;
use voxclone::weights::{ModelStore, NoProgress};
use voxclone_testdata::Ge2eGolden;

fn main() {
    let kernels = voxclone_nn::KernelConfig::from_settings(
        std::env::var("VOXCLONE_KERNEL").ok().as_deref(),
        None,
    )
    .expect("VOXCLONE_KERNEL");
    voxclone_nn::kernels::configure(kernels);
    let store = ModelStore::from_env().expect("cache dir");
    let weights = store.ge2e_encoder(&NoProgress).expect("GE2E weights");
    let encoder = VoiceEncoder::load(&weights, &Device::Cpu).expect("load");
    let clips: Vec<_> = Ge2eGolden::load()
        .clips
        .iter()
        .map(|c| voxclone::audio::load(c).expect("decode"))
        .collect();
    let audio_seconds: f64 = clips.iter().map(|c| c.duration_secs()).sum();
    let threads = candle_core::utils::get_num_threads();
    let kernel = encoder
        .kernel()
        .map_or("candle".to_string(), |k| format!("{k:?}").to_lowercase());
    let repeats: usize = std::env::var("BENCH_REPEATS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);

    // Warm-up: first-touch allocations and thread pools.
    let wav = encoder.preprocess(clips[0].clone()).unwrap();
    encoder.embed_utterance(&wav).unwrap();

    let report = |mode: &str, run: &dyn Fn()| {
        let best = (0..repeats)
            .map(|_| {
                let t = Instant::now();
                run();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        println!(
            "{{\"impl\": \"voxclone ({kernel})\", \"mode\": \"{mode}\", \"threads\": {threads}, \"audio_seconds\": {audio_seconds:.2}, \"wall_seconds\": {best:.4}, \"throughput\": {:.2}}}",
            audio_seconds / best
        );
    };
    // The library's batch API: clips trimmed in parallel, then every clip's partials through the
    // network together.
    report("batched", &|| {
        let wavs: Vec<Vec<f32>> = clips
            .par_iter()
            .map(|c| encoder.preprocess(c.clone()).unwrap())
            .collect();
        encoder.embed_utterances(&wavs, &mut |_, _| {}).unwrap();
    });
    // One call per clip, as Resemblyzer's embed_utterance works.
    report("per-utterance", &|| {
        for c in &clips {
            let wav = encoder.preprocess(c.clone()).unwrap();
            encoder.embed_utterance(&wav).unwrap();
        }
    });
}
