//! `voxclone train speaker-encoding DATA -o BANK`: builds the zero-shot bank.
//!
//! DATA is a folder of recordings, one file per speaker (LibriSpeech-style names
//! `<speaker>-<chapter>-<n>.flac` give the speaker), or one sub-folder per speaker (their
//! recordings are joined). The bank is saved after every entry; run the same command again
//! to go on after an interrupt.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use voxclone::adapt::AdaptOptions;
use voxclone::clone::SpeakerEncoding;
use voxclone::corpus::is_audio;
use voxclone::speaker_encoding::training::{adapted_entry, sampled_entry, StockStyles};
use voxclone::speaker_encoding::StyleBank;

use super::Context;

#[derive(Args, Debug)]
pub struct SpeakerEncodingArgs {
    /// Recordings of many speakers (one file, or one sub-folder, per speaker).
    data: PathBuf,
    /// The bank to write (safetensors); an existing one is extended.
    #[arg(short, long)]
    out: PathBuf,
    /// Adapt at most this many speakers of DATA (in name order).
    #[arg(long)]
    speakers: Option<usize>,
    /// Most adaptation steps per speaker.
    #[arg(long, default_value_t = 30)]
    adapt_steps: usize,
    /// Styles sampled around the stock voices.
    #[arg(long, default_value_t = 200)]
    sampled: u64,
    /// Noise of the sampled styles, in units of the stock styles' spread per dimension.
    #[arg(long, default_value_t = 0.3)]
    noise: f32,
    /// Draw the sampled styles again around today's cloning base (after it changed): the
    /// bank's `sampled:N` entries are dropped first, its adapted speakers kept. After an
    /// interrupt, go on without this flag.
    #[arg(long)]
    resample: bool,
}

/// `(speaker, files)` of DATA.
fn speakers(data: &Path) -> Result<Vec<(String, Vec<PathBuf>)>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(data)
        .with_context(|| format!("reading {}", data.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let files: Vec<&PathBuf> = entries.iter().filter(|p| is_audio(p)).collect();
    if !files.is_empty() {
        let mut out: Vec<(String, Vec<PathBuf>)> = Vec::new();
        for f in files {
            let stem = f
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let speaker = stem.split('-').next().unwrap_or(&stem).to_owned();
            match out.last_mut() {
                Some((s, fs)) if *s == speaker => fs.push(f.clone()),
                _ => out.push((speaker, vec![f.clone()])),
            }
        }
        return Ok(out);
    }
    super::speakers::speaker_files(data)
}

pub fn run(ctx: &Context, args: SpeakerEncodingArgs) -> Result<()> {
    if args.adapt_steps == 0 {
        bail!("--adapt-steps must be at least 1");
    }
    let all = speakers(&args.data)?;
    let chosen: Vec<_> = all
        .into_iter()
        .take(args.speakers.unwrap_or(usize::MAX))
        .collect();
    let mut bank = if args.out.is_file() {
        StyleBank::load(&args.out)?
    } else {
        StyleBank::default()
    };
    if args.resample {
        bank.entries
            .retain(|e| e.source() == voxclone::speaker_encoding::EntrySource::Adapted);
    }
    let vc = ctx.pipeline()?;
    let tts = ctx.tts()?;
    super::interrupt::catch();
    let bar = |len: u64, what: &str| {
        super::progress::bar(
            ctx.quiet,
            len,
            &format!("{what} [{{bar:30}}] {{pos}}/{{len}} {{msg}} ({{eta}})"),
        )
    };

    // Sampled styles: cheap, so first.
    let stock_styles = StockStyles::new(&tts)?;
    let sampled = bar(args.sampled, "sampled styles");
    for index in 0..args.sampled {
        sampled.set_position(index);
        let name = format!("sampled:{index}");
        if bank.contains(&name) {
            continue;
        }
        if super::interrupt::requested() {
            break;
        }
        bank.entries
            .push(sampled_entry(&vc, &tts, &stock_styles, index, args.noise)?);
        bank.save(&args.out)?;
    }
    sampled.finish_and_clear();

    // Adapted speakers, each from the stock voice the encoder hears as closest (the stock
    // voices are embedded only once a speaker needs adapting: a finished bank costs nothing).
    let mut start: Option<SpeakerEncoding> = None;
    let adapted = bar(chosen.len() as u64, "adapted speakers");
    let mut report = Vec::new();
    for (i, (speaker, files)) in chosen.iter().enumerate() {
        adapted.set_position(i as u64);
        let name = format!("adapted:{speaker}");
        if bank.contains(&name) || super::interrupt::requested() {
            continue;
        }
        let mut speech = Vec::new();
        for f in files {
            speech.extend(vc.prepare_reference(f)?);
        }
        let t = Instant::now();
        let options = AdaptOptions {
            steps: args.adapt_steps,
            ..AdaptOptions::default()
        };
        let start = match &mut start {
            Some(start) => start,
            None => start.insert(SpeakerEncoding::choose(
                &voxclone::EncodingChoice::NearestStock {
                    cache: ctx.stock_cache(),
                },
                &vc,
                &tts,
            )?),
        };
        let result = adapted_entry(&vc, &tts, start, speaker, speech, options, &mut |_, _| {
            !super::interrupt::requested()
        });
        let made = match result {
            Ok(made) => made,
            Err(e) => {
                eprintln!("voxclone: warning: skipping speaker {speaker}: {e}");
                continue;
            }
        };
        if super::interrupt::requested() {
            // A fit cut short is not a finished entry; the next run redoes it.
            break;
        }
        adapted.set_message(format!(
            "{speaker}: held-out likeness {:.3} (start {:.3})",
            made.held_out_similarity, made.start_similarity
        ));
        report.push(format!(
            "{speaker}\t{:.3}\t{:.3}\t{}\t{:.1}",
            made.start_similarity,
            made.held_out_similarity,
            made.steps,
            t.elapsed().as_secs_f32()
        ));
        bank.entries.push(made.entry);
        bank.save(&args.out)?;
    }
    adapted.finish_and_clear();
    if !report.is_empty() {
        println!("speaker\tstart held-out similarity\tadapted held-out similarity\tsteps\tseconds");
        for line in &report {
            println!("{line}");
        }
    }
    println!(
        "{}: {} entries ({} adapted)",
        args.out.display(),
        bank.entries.len(),
        bank.entries
            .iter()
            .filter(|e| e.source() == voxclone::speaker_encoding::EntrySource::Adapted)
            .count()
    );
    if super::interrupt::requested() {
        bail!("interrupted; run the same command again to go on");
    }
    Ok(())
}
