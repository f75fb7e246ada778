//! Progress bars on stderr (hidden with --quiet or when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps drawn with `template` (indicatif's syntax) in the project's style;
/// hidden with --quiet.
pub fn bar(quiet: bool, len: u64, template: &str) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(len)
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

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

impl voxclone::weights::Progress for Bytes {
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

/// Embeds `files` with a progress bar over partials (hidden with --quiet or off a terminal).
pub fn embed_files(
    pipeline: &voxclone::Voxclone,
    files: &[std::path::PathBuf],
    quiet: bool,
) -> Result<Vec<voxclone::pipeline::EmbeddedFile>, voxclone::pipeline::PipelineError> {
    let bar = bar(
        quiet,
        0,
        "embedding [{bar:30}] {pos}/{len} partials {msg} ({eta})",
    );
    let result = pipeline.embed_files(files, &mut |p| {
        bar.set_length(p.partials_total as u64);
        bar.set_position(p.partials_done as u64);
        if p.files_total > 1 {
            bar.set_message(format!("of files {}..{}", p.files_done + 1, p.files_total));
        }
    });
    bar.finish_and_clear();
    result
}
