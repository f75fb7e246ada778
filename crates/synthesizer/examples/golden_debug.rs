//! Development aid: runs one golden case and prints how far each stage is from the reference.
//! `cargo run --example golden_debug -- WEIGHTS(.npz|.safetensors) [CASE]`
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use voxclone_synthesizer::{Kokoro, KokoroConfig};
use voxclone_testdata::{correlation, KokoroGolden};
use voxclone_vocoder::SourceNoise;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::Path::new(&args[1]);
    let case: usize = args.get(2).map_or(0, |s| s.parse().unwrap());
    let dev = Device::Cpu;
    let vb = if path.extension().is_some_and(|e| e == "npz") {
        VarBuilder::from_npz(path, DType::F32, &dev)?
    } else {
        unsafe { VarBuilder::from_mmaped_safetensors(&[path], DType::F32, &dev)? }
    };
    let t = std::time::Instant::now();
    let model = Kokoro::load(vb, KokoroConfig::default())?;
    println!("loaded in {:?}", t.elapsed());
    let golden = KokoroGolden::load();
    let c = &golden.cases()[case];
    let phonemes = &c.tokens[1..c.tokens.len() - 1];
    let style = Tensor::new(c.style.as_slice(), &dev)?.unsqueeze(0)?;
    let t = std::time::Instant::now();
    let free = model.features(phonemes, &style, c.speed)?;
    println!("features in {:?}", t.elapsed());
    let same = free
        .durations
        .iter()
        .zip(&c.durations)
        .filter(|(a, b)| a == b)
        .count();
    println!("durations equal {same}/{}", c.durations.len());
    println!("ours   {:?}", free.durations);
    println!("golden {:?}", c.durations);
    let raw_err = free
        .expected_durations
        .iter()
        .zip(&c.expected_durations)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    println!("raw duration max err {raw_err}");
    let forced = model.features_with_durations(phonemes, &style, c.speed, Some(&c.durations))?;
    let f0: Vec<f32> = forced.f0.flatten_all()?.to_vec1()?;
    let n: Vec<f32> = forced.energy.flatten_all()?.to_vec1()?;
    println!(
        "F0 corr {:.5}  N corr {:.5}",
        correlation(&f0, &c.f0),
        correlation(&n, &c.energy)
    );
    println!("F0 ours[..8] {:?}\nF0 gold[..8] {:?}", &f0[..8], &c.f0[..8]);
    let t = std::time::Instant::now();
    let audio = model.vocode(&forced, &style, SourceNoise::Off)?;
    let el = t.elapsed();
    let audio: Vec<f32> = audio.flatten_all()?.to_vec1()?;
    println!(
        "vocode in {:?} for {:.2} s audio",
        el,
        audio.len() as f32 / 24000.0
    );
    println!("audio len {} golden {}", audio.len(), c.audio.len());
    let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    println!(
        "rms ours {} golden {}; corr {:.4}",
        rms(&audio),
        rms(&c.audio),
        correlation(&audio, &c.audio)
    );
    if let Some(out) = args.get(3) {
        voxclone_audio::wav::write_wav_i16(out, &audio, 24000)?;
    }
    Ok(())
}
