//! The speech API works with the official OpenAI Python client, unchanged: it is installed
//! (pinned, from PyPI) into a virtual environment under `target/tmp/` and runs
//! `scripts/openai-client-check.py` against `voxclone serve`.

mod common;

use std::path::Path;
use std::process::Command;

use common::Server;
use serde_json::Value;

/// The client version this was checked with.
const OPENAI_CLIENT: &str = "openai==3.54.0";

fn python_with_the_client() -> std::path::PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openai-venv");
    let python = venv.join("bin/python");
    let ready = venv.join(format!(".{OPENAI_CLIENT}"));
    if !ready.exists() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 is needed (scripts/ensure-deps.sh installs it)");
        assert!(
            made.success(),
            "python3 -m venv failed (Debian: apt install python3-venv)"
        );
        let installed = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                OPENAI_CLIENT,
            ])
            .status()
            .unwrap();
        assert!(installed.success(), "pip install {OPENAI_CLIENT} failed");
        std::fs::write(&ready, b"").unwrap();
    }
    python
}

#[test]
fn the_official_openai_client_speaks_streams_and_reports_errors() {
    let python = python_with_the_client();
    let server = Server::start(&[]);
    let out = tempfile::TempDir::new().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/openai-client-check.py");
    let run = Command::new(python)
        .arg(script)
        .arg(&server.url)
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let seen: Value = serde_json::from_slice(&run.stdout).expect("one JSON line");
    assert!(
        seen["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "tts-1"),
        "{seen}"
    );

    let whole = voxclone::audio::load(out.path().join("whole.wav")).unwrap();
    assert_eq!(whole.sample_rate, 24_000);
    assert!(
        (1.0..8.0).contains(&whole.duration_secs()),
        "{}",
        whole.duration_secs()
    );

    // The long text came in many pieces and adds up to far more speech.
    assert_eq!(seen["transfer_encoding"], "chunked", "{seen}");
    assert!(seen["streamed_pieces"].as_u64().unwrap() > 3, "{seen}");
    let streamed_seconds = (seen["streamed_bytes"].as_f64().unwrap() - 44.0) / 48_000.0;
    assert!(streamed_seconds > 5.0 * whole.duration_secs(), "{seen}");

    let bad = seen["bad_voice"].as_str().expect("a BadRequestError");
    assert!(bad.contains("unknown voice \"nobody\""), "{bad}");
}
