//! The optimiser-step loop that `train vocoder`, `train synthesizer` and `adapt` share: a
//! progress bar with the mean of the recent losses, Ctrl-C between steps, and a checkpoint
//! every `save_every` steps, at the end and on interrupt.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Result};
use candle_core::Tensor;

use super::interrupt;

/// Losses shown as the running mean of the last this many steps.
const RECENT: usize = 20;

/// One trainer as the loop drives it.
pub trait Training {
    /// Optimiser steps taken so far.
    fn step_count(&self) -> usize;
    /// One optimiser step: its loss, and anything more to show beside the mean (or "").
    fn train_step(&mut self) -> Result<(f32, String)>;
    /// Writes the checkpoint.
    fn save(&self) -> Result<()>;
    /// Work after a step that is not saving (plots, say).
    fn after_step(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Trains until step `target`, showing `model` on the bar; the checkpoint written is `saved`.
pub fn run(
    training: &mut dyn Training,
    model: &str,
    target: usize,
    save_every: usize,
    saved: &Path,
    quiet: bool,
) -> Result<()> {
    let bar = super::progress::bar(
        quiet,
        target as u64,
        &format!("training {model} [{{bar:30}}] step {{pos}}/{{len}} {{msg}} ({{eta}})"),
    );
    bar.set_position(training.step_count() as u64);
    interrupt::catch();
    let mut recent: Vec<f32> = Vec::new();
    let mean = |recent: &[f32]| recent.iter().sum::<f32>() / recent.len().max(1) as f32;
    while training.step_count() < target {
        if interrupt::requested() {
            break;
        }
        let (loss, extra) = training.train_step()?;
        recent.push(loss);
        if recent.len() > RECENT {
            recent.remove(0);
        }
        let step = training.step_count();
        bar.set_position(step as u64);
        bar.set_message(format!("loss {:.3}{extra}", mean(&recent)));
        if step.is_multiple_of(save_every) {
            training.save()?;
            // Without a terminal (nohup, a log file) there is no bar: say how it goes at
            // each save instead.
            if !quiet && bar.is_hidden() {
                eprintln!("step {step}: loss {:.3}{extra}; saved", mean(&recent));
            }
        }
        training.after_step()?;
    }
    training.save()?;
    bar.finish_and_clear();
    let step = training.step_count();
    if !quiet {
        eprintln!(
            "step {step}: loss {:.3} (mean of the last {}); saved {}",
            mean(&recent),
            recent.len(),
            saved.display()
        );
    }
    if interrupt::requested() {
        bail!("interrupted at step {step}; the checkpoint was saved");
    }
    Ok(())
}

/// The step a checkpoint records in its `step` tensor (0 when it has none).
pub fn stored_step(tensors: &HashMap<String, Tensor>) -> Result<usize> {
    Ok(tensors
        .get("step")
        .map(|t| {
            t.flatten_all()
                .and_then(|t| t.to_dtype(candle_core::DType::I64))
                .and_then(|t| t.to_vec1::<i64>())
                .map(|v| v[0].max(0) as usize)
        })
        .transpose()?
        .unwrap_or(0))
}

/// Says so when a resumed run found no optimiser state beside its checkpoint.
pub fn warn_without_optimizer(resumed_at: usize, restored: bool, quiet: bool) {
    if resumed_at > 0 && !restored && !quiet {
        eprintln!(
            "voxclone: warning: no optimizer.safetensors beside the checkpoint; Adam starts afresh"
        );
    }
}
