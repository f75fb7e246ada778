//! `voxclone speak` and `voxclone voices`: text → speech with a built-in or file voice.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use voxclone::audio::output::{Destination, PendingFile};
use voxclone::audio::wav::{pcm16_bytes, pcm16_header, UNKNOWN_LEN};
use voxclone::profile::VoiceProfile;
use voxclone::tts::{
    check_pitch, check_speed, PitchTarget, SpeakOptions, Tts, TtsError, SAMPLE_RATE,
};
use voxclone_synthesizer::VoicePack;

use super::{interrupt, Context};

use voxclone::voices::{catalogue, DEFAULT_VOICE};

#[derive(Args, Debug)]
pub struct SpeakArgs {
    /// A built-in voice (see `voxclone voices`), a voice profile (.voice, from `voxclone voice
    /// create`) or a style file (.npy or .safetensors style vectors).
    #[arg(long, value_name = "NAME|FILE", default_value = DEFAULT_VOICE)]
    voice: String,
    /// Median pitch in Hz (50 to 500): moves the voice's intonation to this register.
    #[arg(long, value_name = "HZ")]
    pitch: Option<f32>,
    #[command(flatten)]
    out: TextOut,
}

fn parse_stdin(s: &str) -> std::result::Result<bool, String> {
    if s == "-" {
        Ok(true)
    } else {
        Err(format!("unexpected argument {s:?}; give the text with --text, --file or `-` for standard input"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Wav,
    Raw,
}

/// Where samples go: a temporary file renamed into place at the end, or standard output.
struct AudioSink {
    format: Format,
    target: Target,
    samples: u64,
}

enum Target {
    /// A file (written atomically) or a device or pipe (in place): see `voxclone_audio::output`.
    File {
        dest: PathBuf,
        out: BufWriter<PendingFile>,
    },
    Stdout(BufWriter<std::io::Stdout>),
}

impl AudioSink {
    fn open(output: &Path, format: Format) -> Result<Self> {
        let target = if output == Path::new("-") {
            Target::Stdout(BufWriter::new(std::io::stdout()))
        } else {
            let pending = Destination::of(output)
                .and_then(|d| d.create())
                .with_context(|| format!("cannot write {}", output.display()))?;
            Target::File {
                dest: output.to_owned(),
                out: BufWriter::new(pending),
            }
        };
        let mut sink = Self {
            format,
            target,
            samples: 0,
        };
        if format == Format::Wav {
            sink.write_bytes(&pcm16_header(UNKNOWN_LEN, SAMPLE_RATE))?;
        }
        Ok(sink)
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        match &mut self.target {
            Target::File { out, dest } => out
                .write_all(bytes)
                .with_context(|| format!("cannot write {}", dest.display())),
            Target::Stdout(out) => out
                .write_all(bytes)
                .context("cannot write to standard output"),
        }
    }

    fn write(&mut self, samples: &[f32]) -> Result<()> {
        let bytes = pcm16_bytes(samples);
        self.samples += samples.len() as u64;
        self.write_bytes(&bytes)?;
        if let Target::Stdout(out) = &mut self.target {
            // A listener downstream hears each chunk as soon as it is ready.
            out.flush().context("cannot write to standard output")?;
        }
        Ok(())
    }

    /// Completes the header and moves the file into place.
    fn finish(self) -> Result<()> {
        match self.target {
            Target::Stdout(mut out) => out.flush().context("cannot write to standard output"),
            Target::File { dest, out } => {
                let result = (|| -> Result<()> {
                    let mut pending = out.into_inner().map_err(|e| e.into_error())?;
                    // A file of our own gets the true sizes; a device or a pipe cannot be
                    // rewound and keeps the streaming header (readers take data to the end).
                    if self.format == Format::Wav && pending.is_atomic() {
                        let bytes = self.samples * 2;
                        let bytes = u32::try_from(bytes)
                            .ok()
                            .filter(|&b| b < UNKNOWN_LEN - 36)
                            .context("the audio is longer than a WAV file can hold (about 12 hours); write raw PCM instead")?;
                        let file = pending.file();
                        file.seek(SeekFrom::Start(0))?;
                        file.write_all(&pcm16_header(bytes, SAMPLE_RATE))?;
                    }
                    pending.commit()?;
                    Ok(())
                })();
                result.with_context(|| format!("cannot write {}", dest.display()))
            }
        }
    }

    /// Gives up: a file output leaves nothing behind (the pending file removes itself).
    fn abandon(self) {
        if let Target::File { out, .. } = self.target {
            // Not flushed: what is buffered is dropped, not written.
            let (pending, _) = out.into_parts();
            drop(pending);
        }
    }
}

pub fn read_text(args: &TextOut) -> Result<String> {
    if let Some(t) = &args.text {
        return Ok(t.clone());
    }
    let mut bytes = Vec::new();
    if let Some(path) = &args.file {
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {}", path.display()))?;
    } else {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "the text is not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Whether `voice` names a file rather than a built-in voice.
fn is_voice_file(voice: &str) -> bool {
    let p = Path::new(voice);
    voice.contains(std::path::MAIN_SEPARATOR)
        || p.extension()
            .is_some_and(|e| e == "npy" || e == "safetensors")
        || p.is_file()
}

/// The text, output and rendering options `speak` and `clone` share.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["text", "file", "stdin"])))]
pub struct TextOut {
    /// The text to say.
    #[arg(long, value_name = "TEXT")]
    text: Option<String>,
    /// Read the text from a UTF-8 file.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// `-`: read the text from standard input.
    #[arg(value_name = "-", value_parser = parse_stdin)]
    stdin: Option<bool>,
    /// Output file (.wav, or .raw/.pcm for headerless 16-bit PCM); `-` streams to standard output.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Pace: 1.0 is natural, 1.3 is 30% faster (0.25 to 4).
    #[arg(long, default_value_t = 1.0)]
    speed: f32,
    /// Seed of the vocoder's noise: the same seed gives the same audio, bit for bit.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Audio format: wav (24 kHz 16-bit mono) or raw (the same samples, no header). Default:
    /// from the output's extension, wav for `-`.
    #[arg(long, value_enum)]
    format: Option<Format>,
}

impl TextOut {
    fn format(&self) -> Format {
        self.format
            .unwrap_or_else(|| match self.output.extension().and_then(|e| e.to_str()) {
                Some("raw") | Some("pcm") => Format::Raw,
                _ => Format::Wav,
            })
    }

    pub fn options(&self, pitch: Option<PitchTarget>) -> Result<SpeakOptions> {
        let options = SpeakOptions {
            speed: self.speed,
            seed: self.seed,
            pitch,
        };
        check_speed(options.speed)?;
        if let Some(p) = &options.pitch {
            check_pitch(p)?;
        }
        Ok(options)
    }
}

/// A voice argument: a built-in name, a `.voice` profile (style and pitch), or a style file.
pub fn resolve_voice(
    ctx: &Context,
    tts: &Tts,
    voice: &str,
) -> Result<(VoicePack, Option<PitchTarget>)> {
    let path = Path::new(voice);
    if path.extension().is_some_and(|e| e == "voice") {
        let profile = VoiceProfile::load(path, &ctx.device()?)?;
        return Ok((profile.voice_pack(), profile.pitch));
    }
    if is_voice_file(voice) {
        return Ok((tts.voice_from_file(path)?, None));
    }
    Ok((tts.voice(voice)?, None))
}

pub fn run(ctx: &Context, args: SpeakArgs) -> Result<()> {
    let pitch = args.pitch.map(|median_hz| PitchTarget {
        median_hz,
        spread_semitones: None,
    });
    // Check what can be checked before loading anything.
    args.out.options(pitch)?;
    let text = read_text(&args.out)?;
    let tts = ctx.tts()?;
    let (voice, profile_pitch) = resolve_voice(ctx, &tts, &args.voice)?;
    let options = args.out.options(pitch.or(profile_pitch))?;
    say(ctx, &tts, &text, &voice, options, &args.out)
}

/// Speaks `text` into `out`, chunk by chunk, with a progress bar; Ctrl-C stops cleanly.
pub fn say(
    ctx: &Context,
    tts: &Tts,
    text: &str,
    voice: &VoicePack,
    options: SpeakOptions,
    out: &TextOut,
) -> Result<()> {
    // Check the input before creating any output.
    let mut chunks = tts.chunks(text, voice)?.peekable();
    if chunks.peek().is_none() {
        return Err(TtsError::NothingToSay.into());
    }
    let bar = if ctx.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(text.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {percent}% of the text ({elapsed}, {eta} left)",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message("Speaking");

    interrupt::catch();
    let mut sink = AudioSink::open(&out.output, out.format())?;
    let mut last_sentence = String::new();
    for (i, chunk) in chunks.enumerate() {
        if interrupt::requested() {
            bar.abandon();
            sink.abandon();
            bail!("interrupted; no output written");
        }
        let audio = match tts.speak_chunk(&chunk, voice, options, i as u64) {
            Ok(a) => a,
            Err(e) => {
                bar.abandon();
                sink.abandon();
                return Err(anyhow::Error::new(e).context(format!("while saying {:?}", chunk.text)));
            }
        };
        if let Err(e) = sink.write(&audio) {
            sink.abandon();
            return Err(e);
        }
        if chunk.text != last_sentence {
            bar.inc(chunk.text.len() as u64 + 1);
            last_sentence = chunk.text;
        }
    }
    let seconds = sink.samples as f64 / SAMPLE_RATE as f64;
    sink.finish()?;
    bar.finish_and_clear();
    if out.output != Path::new("-") && !ctx.quiet {
        eprintln!(
            "wrote {} ({seconds:.1} s of audio, voice {})",
            out.output.display(),
            voice.name
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct VoicesArgs {
    /// Only voices of this language: a code (en-US, en-GB, es, fr, hi, it, ja, pt-BR, zh), its
    /// first part (en) or its name ("british english").
    #[arg(long, value_name = "LANGUAGE")]
    language: Option<String>,
}

/// `voxclone voices`: Kokoro's stock voices from the catalogue, by language, best grade first.
/// Reads no model: the catalogue is built in.
pub fn run_voices(args: &VoicesArgs) -> Result<()> {
    let voices: Vec<_> = catalogue()
        .into_iter()
        .filter(|v| {
            args.language
                .as_deref()
                .is_none_or(|l| v.language.matches(l))
        })
        .collect();
    if voices.is_empty() {
        bail!(
            "no voice speaks {:?}; languages: en-US, en-GB, es, fr, hi, it, ja, pt-BR, zh",
            args.language.as_deref().unwrap_or_default()
        );
    }
    println!(
        "{:<14} {:<6} {:<7} {:<6} description",
        "name", "lang", "gender", "grade"
    );
    for v in voices {
        let default = if v.name == DEFAULT_VOICE {
            " (default)"
        } else {
            ""
        };
        println!(
            "{:<14} {:<6} {:<7} {:<6} {}{default}",
            v.name,
            v.language.code(),
            v.gender.name(),
            v.grade.unwrap_or("-"),
            v.description()
        );
    }
    Ok(())
}
