//! The optimiser-step loop every trainer runs (`train encoder`, `train vocoder`,
//! `train synthesizer`, speaker adaptation): steps until a target, a checkpoint every
//! `save_every` steps, at the end and when asked to stop, and the mean of the recent losses for
//! whoever watches. What watching looks like (a progress bar, a log, Ctrl-C) is the
//! application's, behind [`Observer`].

/// Losses are reported as the running mean of the last this many steps.
pub const RECENT: usize = 20;

/// One trainer as the loop drives it.
pub trait Training {
    /// Optimiser steps taken so far.
    fn step_count(&self) -> usize;
    /// One optimiser step: its loss, and anything more to show beside the mean (or "").
    fn train_step(&mut self) -> anyhow::Result<(f32, String)>;
    /// Writes the checkpoint.
    fn save(&self) -> anyhow::Result<()>;
    /// Work after a step that is not saving (evaluation, plots); a line it returns is reported.
    fn after_step(&mut self) -> anyhow::Result<Option<String>> {
        Ok(None)
    }
}

/// Whoever watches a run: told of its progress, and asked whether to stop.
pub trait Observer {
    /// Before the first step; `step` is where a resumed run starts.
    fn started(&mut self, _step: usize, _target: usize) {}
    /// After every step, with the mean of the recent losses.
    fn stepped(&mut self, _step: usize, _mean_loss: f32, _extra: &str) {}
    /// After a periodic checkpoint.
    fn saved(&mut self, _step: usize, _mean_loss: f32, _extra: &str) {}
    /// A line from [`Training::after_step`].
    fn report(&mut self, _line: &str) {}
    /// Checked before each step: stop (saving first) when true.
    fn should_stop(&self) -> bool {
        false
    }
}

/// How a run ended; the checkpoint is written either way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub step: usize,
    /// The mean loss of the last [`RECENT`] steps (NaN when no step ran).
    pub mean_loss: f32,
    /// Steps the mean covers.
    pub recent: usize,
    /// Whether the observer stopped the run before its target.
    pub stopped: bool,
}

/// Trains until step `target` (or until the observer says stop), saving every `save_every`
/// steps and at the end.
pub fn run(
    training: &mut dyn Training,
    target: usize,
    save_every: usize,
    observer: &mut dyn Observer,
) -> anyhow::Result<Outcome> {
    observer.started(training.step_count(), target);
    let mut recent: Vec<f32> = Vec::new();
    let mean = |recent: &[f32]| recent.iter().sum::<f32>() / recent.len() as f32;
    let mut stopped = false;
    while training.step_count() < target {
        if observer.should_stop() {
            stopped = true;
            break;
        }
        let (loss, extra) = training.train_step()?;
        recent.push(loss);
        if recent.len() > RECENT {
            recent.remove(0);
        }
        let step = training.step_count();
        observer.stepped(step, mean(&recent), &extra);
        if step.is_multiple_of(save_every.max(1)) {
            training.save()?;
            observer.saved(step, mean(&recent), &extra);
        }
        if let Some(line) = training.after_step()? {
            observer.report(&line);
        }
    }
    training.save()?;
    Ok(Outcome {
        step: training.step_count(),
        mean_loss: mean(&recent),
        recent: recent.len(),
        stopped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Count {
        step: usize,
        saves: Cell<Vec<usize>>,
    }

    impl Training for Count {
        fn step_count(&self) -> usize {
            self.step
        }
        fn train_step(&mut self) -> anyhow::Result<(f32, String)> {
            self.step += 1;
            Ok((self.step as f32, String::new()))
        }
        fn save(&self) -> anyhow::Result<()> {
            let mut saves = self.saves.take();
            saves.push(self.step);
            self.saves.set(saves);
            Ok(())
        }
    }

    struct StopAt(usize, usize);

    impl Observer for StopAt {
        fn stepped(&mut self, step: usize, _: f32, _: &str) {
            self.1 = step;
        }
        fn should_stop(&self) -> bool {
            self.1 >= self.0
        }
    }

    #[test]
    fn saves_periodically_and_at_the_end_and_resumes_from_the_step_reached() {
        let mut t = Count {
            step: 2,
            saves: Cell::new(Vec::new()),
        };
        let out = run(&mut t, 7, 2, &mut StopAt(usize::MAX, 0)).unwrap();
        assert_eq!(t.saves.take(), vec![4, 6, 7]);
        assert_eq!((out.step, out.recent, out.stopped), (7, 5, false));
        assert_eq!(out.mean_loss, 5.0);
    }

    #[test]
    fn a_stop_request_saves_where_the_run_is() {
        let mut t = Count {
            step: 0,
            saves: Cell::new(Vec::new()),
        };
        let out = run(&mut t, 100, 1000, &mut StopAt(3, 0)).unwrap();
        assert_eq!((out.step, out.stopped), (3, true));
        assert_eq!(t.saves.take(), vec![3]);
    }
}
