//! `voxclone models fetch|list`.

use anyhow::Result;
use clap::Subcommand;

use super::{progress, Context};

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// Download, verify and convert every pretrained model into the cache.
    Fetch,
    /// Show what is cached and where.
    List,
}

pub fn run(ctx: &Context, cmd: ModelsCommand) -> Result<()> {
    match cmd {
        ModelsCommand::Fetch => {
            let progress = progress::Bytes::new(ctx.quiet);
            let path = ctx.store.ge2e_encoder(&progress)?;
            println!("GE2E speaker encoder: {}", path.display());
            let kokoro = ctx.store.kokoro(&progress)?;
            println!(
                "Kokoro-82M synthesizer and vocoder: {}",
                kokoro.weights.display()
            );
            println!(
                "Kokoro voices ({}, npm {}@{}): {}",
                voxclone::weights::KOKORO_VOICES.len(),
                voxclone::weights::KOKORO_JS_TARBALL.package,
                voxclone::weights::KOKORO_JS_TARBALL.version,
                kokoro.voices.display()
            );
            let lexicons = ctx.store.misaki_lexicons(&progress)?;
            println!(
                "English lexicons, American and British (misaki): {}",
                lexicons
                    .us_gold
                    .parent()
                    .unwrap_or(&lexicons.us_gold)
                    .display()
            );
        }
        ModelsCommand::List => {
            println!("cache: {}", ctx.store.root().display());
            for m in ctx.store.status() {
                let state = match (m.present, m.size) {
                    (true, Some(size)) => format!("ok, {:.1} MB", size as f64 / 1e6),
                    (true, None) => "ok".to_string(),
                    (false, Some(_)) => "invalid (will be fetched again)".to_string(),
                    (false, None) => "missing".to_string(),
                };
                println!("{:<24} {:<34} {}", m.name, state, m.path.display());
            }
        }
    }
    Ok(())
}
