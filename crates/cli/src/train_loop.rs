//! How the CLI watches a training run ([`voxclone_train::driver`]): a progress bar with the mean
//! of the recent losses, a line per checkpoint when there is no terminal, and Ctrl-C between
//! steps.

use std::path::Path;

use anyhow::{bail, Result};
use indicatif::ProgressBar;
pub use voxclone_train::driver::Training;
use voxclone_train::driver::{self, Observer};

use super::interrupt;

struct Bar {
    bar: ProgressBar,
    quiet: bool,
}

impl Observer for Bar {
    fn started(&mut self, step: usize, _target: usize) {
        self.bar.set_position(step as u64);
    }
    fn stepped(&mut self, step: usize, mean_loss: f32, extra: &str) {
        self.bar.set_position(step as u64);
        self.bar.set_message(format!("loss {mean_loss:.3}{extra}"));
    }
    fn saved(&mut self, step: usize, mean_loss: f32, extra: &str) {
        // Without a terminal (nohup, a log file) there is no bar: say how it goes at each save.
        if !self.quiet && self.bar.is_hidden() {
            eprintln!("step {step}: loss {mean_loss:.3}{extra}; saved");
        }
    }
    /// Evaluations are results, not progress: shown even with --quiet.
    fn report(&mut self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }
    fn should_stop(&self) -> bool {
        interrupt::requested()
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
    interrupt::catch();
    let mut observer = Bar {
        bar: bar.clone(),
        quiet,
    };
    let outcome = driver::run(training, target, save_every, &mut observer)?;
    bar.finish_and_clear();
    if !quiet && outcome.recent > 0 {
        eprintln!(
            "step {}: loss {:.3} (mean of the last {}); saved {}",
            outcome.step,
            outcome.mean_loss,
            outcome.recent,
            saved.display()
        );
    } else if !quiet {
        eprintln!(
            "step {}: already at the target; saved {}",
            outcome.step,
            saved.display()
        );
    }
    if outcome.stopped {
        bail!(
            "interrupted at step {}; checkpoint saved in {} (run the same command to resume)",
            outcome.step,
            saved.display()
        );
    }
    Ok(())
}

/// Says so when a resumed run found no optimiser state beside its checkpoint.
pub fn warn_without_optimizer(resumed_at: usize, restored: bool, quiet: bool) {
    if resumed_at > 0 && !restored && !quiet {
        eprintln!(
            "voxclone: warning: no optimizer.safetensors beside the checkpoint; Adam starts afresh"
        );
    }
}
