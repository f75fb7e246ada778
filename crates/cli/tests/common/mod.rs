//! Helpers shared by the CLI tests (`cli.rs`, `speak.rs`, `clone.rs`): run the binary with the real
//! weights in the default cache, and check one-line errors.
#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// How long a test waits for something that must happen before calling it hung. This is not a
/// speed requirement (speed is measured in the benchmarks, never asserted in a test): it only
/// turns a hang into a failure, and is long enough for the slowest CPU that CI runs on (a
/// 2-core AVX2 machine under a full parallel test load). Where a test can see progress (steps
/// reported, bytes streamed) it bounds the time *between* signs of progress by this instead.
pub const HANG_GUARD: Duration = Duration::from_secs(20 * 60);

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxclone"));
    cmd.arg("--quiet").stdin(Stdio::null());
    cmd
}

/// Fills the default cache once, before parallel tests need it.
pub fn weights_ready() {
    static FETCH: Once = Once::new();
    FETCH.call_once(|| {
        let out = bin()
            .args(["models", "fetch"])
            .output()
            .expect("run voxclone");
        assert!(
            out.status.success(),
            "models fetch: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Runs `voxclone --quiet ARGS` with the weights ready.
pub fn run(args: &[&str]) -> Output {
    weights_ready();
    bin().args(args).output().expect("run voxclone")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code 1, exactly one `voxclone: error: …` line naming each of `expected`.
pub fn one_line_error(out: &Output, expected: &[&str]) -> String {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got {err:?}");
    assert!(lines[0].starts_with("voxclone: error: "), "{}", lines[0]);
    for e in expected {
        assert!(lines[0].contains(e), "{:?} not in {:?}", e, lines[0]);
    }
    lines[0].to_owned()
}

/// A bundled LibriSpeech clip.
pub fn speech(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/speech")
        .join(name)
}

/// Median F0 of an audio file, by the tracker cloning uses on references.
pub fn median_pitch(path: &Path) -> f32 {
    let audio = voxclone::audio::load(path).unwrap();
    let samples = voxclone::audio::resample::resample(audio, 16_000).unwrap();
    voxclone::audio::pitch::track(&samples, &voxclone::audio::pitch::PitchParams::SPEECH)
        .stats()
        .unwrap()
        .median_hz
}

/// A `voxclone serve` running on a free loopback port, stopped when dropped.
pub struct Server {
    pub url: String,
    child: std::process::Child,
    /// Everything the server has written to stderr so far.
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub fn start(extra: &[&str]) -> Server {
        use std::io::BufRead;
        weights_ready();
        let mut child = bin()
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("run voxclone serve");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        // Keep reading, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("serving the toolbox at ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap_or_default();
                    let _ = tx.send(url.trim_end_matches('/').to_owned());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        // Loading the models takes what it takes on this CPU: wait for the address or for the
        // process to end, whichever comes first; only a hang is a failure.
        let started = Instant::now();
        let url = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(url) => break url,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = child.wait();
                    panic!("the server ended before serving: {}", log.lock().unwrap())
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the server exited ({status}) before serving: {}",
                    log.lock().unwrap()
                );
            }
            assert!(
                started.elapsed() < HANG_GUARD,
                "the server hung while starting: {}",
                log.lock().unwrap()
            );
        };
        Server { url, child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to end by itself (after a signal).
    pub fn wait(mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A form field: name, file name (`None` for a text field), content.
pub type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

/// POSTs `parts` as multipart/form-data.
#[allow(clippy::result_large_err)] // ureq's own error type, returned as ureq returns it
pub fn post_form(url: &str, parts: &[Part]) -> Result<ureq::Response, ureq::Error> {
    let boundary = "voxclone-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    ureq::post(url)
        .set(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send_bytes(&body)
}
