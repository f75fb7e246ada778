//! Kokoro-82M synthesis speed: real-time factor, time to first audio and peak memory, on the
//! sentences of `bench/sentences.tsv` with voice jf_alpha, the same protocol as the peer
//! `scripts/bench_kokoro_ort.py` (ONNX Runtime): each sentence synthesised whole (stage 2
//! `features`, then stage 3 `vocode`), model load and one warm-up run on the last sentence
//! excluded, each sentence's best wall time over `BENCH_REPEATS` passes (default 1).
//!
//! `cargo bench -p voxclone-synthesizer --bench synthesis [-- --json]`; threads follow
//! `RAYON_NUM_THREADS`, the convolution kernel `VOXCLONE_KERNEL` (`amx`, `avx2`, `portable`).
//! `scripts/bench-kokoro.sh` runs it beside ONNX Runtime and prints the ratios.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use voxclone_nn::kernels::{Kernel, KernelConfig};
use voxclone_synthesizer::{Kokoro, Vocab, VoicePack};
use voxclone_vocoder::{SourceNoise, SAMPLE_RATE};
use voxclone_weights::{ModelStore, NoProgress};

const VOICE: &str = "jf_alpha";
const SPEED: f32 = 1.0;

struct Sentence {
    text: String,
    tag: String,
    ids: Vec<u32>,
    style: Tensor,
}

#[derive(Clone, Copy)]
struct Timing {
    features: f64,
    vocode: f64,
    samples: usize,
}

impl Timing {
    fn wall(&self) -> f64 {
        self.features + self.vocode
    }
}

/// Peak resident set size of this process (`VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

fn synthesize(model: &Kokoro, s: &Sentence) -> Result<Timing> {
    let t = Instant::now();
    let features = model.features(&s.ids, &s.style, SPEED)?;
    let features_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let audio = model.vocode(&features, &s.style, SourceNoise::Seeded(0))?;
    let samples = audio.dim(1)?;
    Ok(Timing {
        features: features_s,
        vocode: t.elapsed().as_secs_f64(),
        samples,
    })
}

fn main() -> Result<()> {
    let json = std::env::args().any(|a| a == "--json");
    let repeats: usize = std::env::var("BENCH_REPEATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let threads = candle_core::utils::get_num_threads();
    let config = KernelConfig::from_settings(
        std::env::var("VOXCLONE_KERNEL").ok().as_deref(),
        std::env::var("VOXCLONE_CONV_PRECISION").ok().as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    voxclone_nn::kernels::configure(config);
    let kernel = Kernel::configured(&voxclone_nn::kernels::conv::CONV_KERNELS);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tsv = root.join("bench/sentences.tsv");

    let dev = Device::Cpu;
    let files = ModelStore::from_env()?.kokoro(&NoProgress)?;
    let t = Instant::now();
    let model = Kokoro::from_safetensors(&files.weights, &dev)?;
    let load_s = t.elapsed().as_secs_f64();
    let vocab = Vocab::load(&files.vocab)?;
    let voice = VoicePack::load_all(&files.voices, &dev)?
        .into_iter()
        .find(|v| v.name == VOICE)
        .with_context(|| format!("voice {VOICE} not in {}", files.voices.display()))?;

    let mut sentences = Vec::new();
    for line in std::fs::read_to_string(&tsv)
        .with_context(|| tsv.display().to_string())?
        .lines()
    {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 2 {
            bail!(
                "{}: expected text<TAB>phonemes, got {line:?}",
                tsv.display()
            );
        }
        let ids = vocab.encode(cols[1]);
        sentences.push(Sentence {
            text: cols[0].to_string(),
            tag: cols.get(2).map_or("", |t| t.trim()).to_string(),
            style: voice.style_for(ids.len())?,
            ids,
        });
    }
    if sentences.is_empty() {
        bail!("{}: no sentences", tsv.display());
    }

    // Warm-up on the last sentence, so that the first one is not pre-run.
    synthesize(&model, sentences.last().expect("non-empty"))?;
    let mut best: Vec<Option<Timing>> = vec![None; sentences.len()];
    for _ in 0..repeats {
        for (s, b) in sentences.iter().zip(best.iter_mut()) {
            let t = synthesize(&model, s)?;
            if b.is_none_or(|b| t.wall() < b.wall()) {
                *b = Some(t);
            }
        }
    }
    let best: Vec<Timing> = best.into_iter().map(|b| b.expect("ran")).collect();
    let peak = peak_rss_mib();
    let sr = SAMPLE_RATE as f64;
    let total_audio: f64 = best.iter().map(|t| t.samples as f64 / sr).sum();
    let total_wall: f64 = best.iter().map(Timing::wall).sum();
    let kernel_name = kernel.name();

    if json {
        let rows: Vec<serde_json::Value> = sentences
            .iter()
            .zip(&best)
            .map(|(s, t)| {
                let audio = t.samples as f64 / sr;
                serde_json::json!({
                    "text": s.text, "tag": s.tag, "phonemes": s.ids.len(),
                    "words": s.text.split_whitespace().count(),
                    "audio_seconds": audio, "wall_seconds": t.wall(),
                    "features_seconds": t.features, "vocode_seconds": t.vocode,
                    "rtf": t.wall() / audio,
                })
            })
            .collect();
        let ten = sentences
            .iter()
            .zip(&best)
            .find(|(s, _)| s.tag == "ten-words")
            .map(|(_, t)| t.wall());
        let out = serde_json::json!({
            "impl": format!("voxclone ({kernel_name})"), "kernel": kernel_name,
            "threads": threads, "repeats": repeats, "voice": VOICE, "speed": SPEED,
            "sentences": sentences.len(), "audio_seconds": total_audio,
            "wall_seconds": total_wall, "rtf": total_wall / total_audio,
            "time_to_first_audio_seconds": best[0].wall(),
            "ten_words_wall_seconds": ten, "peak_rss_mib": peak, "load_seconds": load_s,
            "cpu": cpu_name(), "per_sentence": rows,
        });
        println!("{out}");
        return Ok(());
    }
    println!(
        "voxclone Kokoro-82M, kernel {kernel_name}, {threads} thread(s), CPU: {}",
        cpu_name()
    );
    println!("model load {load_s:.2} s; best of {repeats} pass(es)\n");
    println!("| # | words | phonemes | audio s | features s | vocode s | wall s | RTF | tag |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (i, (s, t)) in sentences.iter().zip(&best).enumerate() {
        let audio = t.samples as f64 / sr;
        println!(
            "| {i} | {} | {} | {audio:.2} | {:.3} | {:.3} | {:.3} | {:.3} | {} |",
            s.text.split_whitespace().count(),
            s.ids.len(),
            t.features,
            t.vocode,
            t.wall(),
            t.wall() / audio,
            s.tag
        );
    }
    println!(
        "\noverall: {total_audio:.2} s of audio in {total_wall:.3} s, RTF {:.3}; time to first audio \
         {:.3} s ({} words); peak RSS {peak:.0} MiB",
        total_wall / total_audio,
        best[0].wall(),
        sentences[0].text.split_whitespace().count()
    );
    Ok(())
}
