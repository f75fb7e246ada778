//! Times RTVC's stages as `voxclone synthesize` runs them, on the random-weight checkpoints of
//! `scripts/rtvc_reference.py golden DIR` (speed does not depend on the values), and prints one
//! JSON line with the same fields as that script's `bench` mode. `scripts/bench-rtvc.sh` runs both
//! and prints the ratios.
//!
//!     cargo run --release -p voxclone --example bench_rtvc -- DIR [SECONDS] [UNBATCHED_SECONDS] [TACO_FRAMES]

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{Device, Tensor};
use voxclone::rtvc;
use voxclone_synthesizer::tacotron::GenerateOptions;
use voxclone_vocoder::griffin_lim::GriffinLim;
use voxclone_vocoder::wavernn::{VocodeOptions, RTVC_FOLDING};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(
        args.get(1)
            .map_or("target/tmp/rtvc-reference", String::as_str),
    );
    let arg = |i: usize, default: f64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (seconds, unbatched_seconds, taco_frames) =
        (arg(2, 5.0), arg(3, 1.0), arg(4, 300.0) as usize);
    let device = Device::Cpu;
    let vocoder = rtvc::load_wavernn(&dir.join("vocoder.pt"), &device)?;
    let tacotron = rtvc::load_tacotron(&dir.join("synthesizer.pt"), &device)?;

    let mut state = 1u64;
    let mut random_mel = |secs: f64| -> anyhow::Result<Tensor> {
        let frames = (secs * 80.0) as usize;
        let values: Vec<f32> = (0..80 * frames)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 8.0 - 4.0
            })
            .collect();
        Ok(Tensor::from_vec(values, (80, frames), &device)?)
    };
    let mut vocode = |secs: f64, folded: bool| -> anyhow::Result<(usize, f64)> {
        let mel = random_mel(secs)?;
        let options = VocodeOptions {
            folding: folded.then_some(RTVC_FOLDING),
            seed: 0,
        };
        let start = Instant::now();
        let wav = vocoder.vocode(&mel, &options, &mut |_, _| true)?;
        Ok((wav.len(), start.elapsed().as_secs_f64()))
    };
    let (n, dt) = vocode(seconds, true)?;
    let batched = n as f64 / dt;
    let (n, dt) = vocode(unbatched_seconds, false)?;
    let unbatched = n as f64 / dt;

    let text = "this sentence is about sixty characters long, for timing it.";
    let ids = voxclone_text::rtvc::text_to_sequence(text);
    let mut embedding = vec![0.0625f32; 256];
    embedding[0] = 0.1;
    let options = GenerateOptions {
        max_frames: 20,
        dropout_seed: Some(0),
    };
    tacotron.generate(&ids, &embedding, &options, &mut |_| true)?; // warm-up
    let options = GenerateOptions {
        max_frames: taco_frames,
        ..options
    };
    let start = Instant::now();
    let spectrogram = tacotron.generate(&ids, &embedding, &options, &mut |_| true)?;
    let dt = start.elapsed().as_secs_f64();
    let frames = spectrogram.mel.dim(1)?;
    let taco = frames as f64 / dt;

    let mel = random_mel(seconds)?;
    let values = mel.flatten_all()?.to_vec1::<f32>()?;
    let start = Instant::now();
    let gl = GriffinLim::default().mel_to_waveform(&values, mel.dim(1)?);
    let gl_rate = gl.len() as f64 / start.elapsed().as_secs_f64();

    println!(
        "{{\"seconds\": {seconds}, \"batched_samples_per_s\": {batched:.0}, \"unbatched_seconds\": {unbatched_seconds}, \"unbatched_samples_per_s\": {unbatched:.0}, \"taco_frames\": {frames}, \"taco_frames_per_s\": {taco:.1}, \"griffin_lim_samples_per_s\": {gl_rate:.0}, \"threads\": {}}}",
        rayon::current_num_threads()
    );
    Ok(())
}
