//! Progress bars on stderr (hidden with --quiet or when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};

/// A download/conversion bar for the model store.
pub struct Bytes {
    bar: ProgressBar,
}

impl Bytes {
    pub fn new(quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        Self { bar }
    }
}

impl voxclone::models::Progress for Bytes {
    fn begin(&self, what: &str, total_bytes: Option<u64>) {
        self.bar.reset();
        match total_bytes {
            Some(n) => {
                self.bar.set_length(n);
                self.bar.set_style(
                    ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
            }
            None => self.bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {bytes}").expect("valid template"),
            ),
        }
        self.bar.set_message(what.to_string());
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn end(&self) {
        self.bar.finish_and_clear();
    }
}

/// A bar over files (hidden for a single file or with --quiet).
pub fn files(total: usize, quiet: bool) -> ProgressBar {
    if quiet || total < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("embedding [{bar:30}] {pos}/{len} files ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}
