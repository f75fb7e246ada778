//! The toolbox in a real browser: Debian's Chromium, headless, driven over WebDriver
//! (chromedriver) against `voxclone serve` with the real models. It loads a bundled recording,
//! uploads a file, records from a (fake) microphone fed with real speech, clones the voice both
//! ways, synthesises, and checks that the audio plays and the plots are drawn. Screenshots are
//! kept in `target/tmp/browser/`.
//!
//! Needs `chromium` and `chromium-driver` (scripts/ensure-deps.sh installs them).

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{Server, HANG_GUARD};
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver process and one browser session in it.
struct Browser {
    driver: Child,
    base: String,
    shots: PathBuf,
}

impl Browser {
    fn start(fake_microphone: &Path) -> Browser {
        for program in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: install Debian's chromium and chromium-driver (scripts/ensure-deps.sh does)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let mut driver = driver;
        while ureq::get(&format!("{url}/status")).call().is_err() {
            if let Ok(Some(status)) = driver.try_wait() {
                panic!("chromedriver exited ({status}) before answering");
            }
            assert!(started.elapsed() < HANG_GUARD, "chromedriver hung starting");
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1400,1400",
                    "--autoplay-policy=no-user-gesture-required",
                    // A microphone that "hears" a real recording, and no permission prompt.
                    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                    format!("--use-file-for-fake-audio-capture={}", fake_microphone.display()),
                ],
            },
        }}});
        let session: Value = ureq::post(&format!("{url}/session"))
            .send_json(capabilities)
            .expect("a browser session")
            .into_json()
            .unwrap();
        let id = session["value"]["sessionId"].as_str().expect("session id");
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            driver,
            base: format!("{url}/session/{id}"),
            shots,
        }
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let response = match method {
            "GET" => ureq::get(&url).call(),
            _ => ureq::post(&url).send_json(body),
        };
        match response {
            Ok(r) => r.into_json::<Value>().unwrap()["value"].clone(),
            Err(ureq::Error::Status(code, r)) => {
                panic!(
                    "WebDriver {path}: {code} {}",
                    r.into_string().unwrap_or_default()
                )
            }
            Err(e) => panic!("WebDriver {path}: {e}"),
        }
    }

    fn go(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    fn eval(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
    }

    fn element(&self, css: &str) -> String {
        let found = self.command(
            "POST",
            "/element",
            json!({ "using": "css selector", "value": css }),
        );
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("an element reference")
            .to_owned()
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.command("POST", &format!("/element/{id}/click"), json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.command("POST", &format!("/element/{id}/clear"), json!({}));
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    /// Waits until `condition` (a JS expression) is true; fails with what the page shows if the
    /// page reports an error, or if nothing happens for [`HANG_GUARD`] (a hang, not slowness).
    fn wait_for(&self, condition: &str, what: &str) {
        let started = Instant::now();
        loop {
            if self.eval(&format!("return !!({condition});")) == json!(true) {
                return;
            }
            let error = self.eval(
                "const e = document.getElementById('error'); return e.hidden ? '' : e.innerText;",
            );
            if error.as_str().is_some_and(|e| !e.trim().is_empty()) {
                self.screenshot(&format!("failed-{}", what.replace(' ', "-")));
                panic!("the page shows an error while waiting for {what}: {error}");
            }
            if started.elapsed() > HANG_GUARD {
                self.screenshot(&format!("failed-{}", what.replace(' ', "-")));
                let error = self.eval("return document.getElementById('error').innerText;");
                panic!("timed out waiting for {what} ({condition}); the page's error: {error}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.command("GET", "/screenshot", Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Distinct colours on a canvas: a blank one has one or two.
    fn canvas_colours(&self, id: &str) -> u64 {
        self.eval(&format!(
            "const c = document.getElementById('{id}');
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             const seen = new Set();
             for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]);
             return seen.size;"
        ))
        .as_u64()
        .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.base).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(path)
        .canonicalize()
        .unwrap()
}

#[test]
fn a_user_clones_a_voice_and_hears_it_in_the_toolbox() {
    let server = Server::start(&[]);
    // The fake microphone plays speaker 367 (a WAV, as Chromium needs).
    let browser = Browser::start(&fixture("formats/ref-16k.wav"));
    browser.go(&format!("{}/", server.url));
    browser.wait_for("document.body.dataset.ready === '1'", "the page to load");
    assert!(
        browser
            .eval("return document.getElementById('sample-select').options.length;")
            .as_u64()
            >= Some(4)
    );
    // A sample is selected, so Load is enabled, whichever list arrived first.
    assert_eq!(
        browser.eval("return document.getElementById('sample-load').disabled;"),
        json!(false)
    );

    // 1. A bundled LibriSpeech recording: waveform, trimmed speech and embedding drawn.
    browser.eval("const s = document.getElementById('sample-select'); s.value = '2414-128291-0000'; s.dispatchEvent(new Event('change'));");
    browser.click("#sample-load");
    browser.wait_for(
        "document.getElementById('heatmap').dataset.drawn === '1'",
        "the embedding heat map",
    );
    for canvas in ["waveform", "speech", "heatmap"] {
        assert!(browser.canvas_colours(canvas) > 3, "{canvas} is blank");
    }
    browser.screenshot("1-sample-loaded");

    // 2. An uploaded file of the same speaker.
    let upload = fixture("speech/2414-128291-0003.flac");
    let input = browser.element("#file-input");
    browser.command(
        "POST",
        &format!("/element/{input}/value"),
        json!({ "text": upload.to_str().unwrap() }),
    );
    browser.wait_for(
        "document.getElementById('projection').dataset.points === '2'",
        "two points in the projection",
    );

    // 3. A recording from the microphone (the fake one plays a real clip).
    browser.type_into("#speaker-label", "367");
    browser.click("#record");
    std::thread::sleep(Duration::from_secs(3));
    browser.click("#record");
    browser.wait_for(
        "document.getElementById('projection').dataset.points === '3'",
        "the recording's point",
    );
    let speech_seconds = browser.eval("return document.getElementById('embed-info').innerText;");
    browser.screenshot("2-recorded");
    assert!(
        browser.canvas_colours("projection") > 3,
        "projection is blank"
    );

    // 4. Clone the 2414 recordings zero-shot: tick them, untick the microphone's.
    browser.eval(
        "document.querySelectorAll('#utterances li').forEach((li, i) => {
             const box = li.querySelector('.ref-check');
             box.checked = li.querySelector('.utt-label').innerText.includes('2414');
             box.dispatchEvent(new Event('change'));
         });",
    );
    browser.type_into("#clone-name", "reader");
    browser.click("#clone-zero-shot");
    browser.wait_for(
        "document.getElementById('clone-status').dataset.state === 'done'",
        "the zero-shot clone",
    );
    let selected = browser.eval("return document.getElementById('voice-select').value;");
    assert!(
        selected.as_str().unwrap().starts_with("reader-"),
        "{selected}"
    );
    // The report says how the voice was made in words, not "speaker-encoding:284".
    let report = browser.eval("return document.getElementById('clone-report').innerText;");
    let report = report.as_str().unwrap();
    assert!(
        report.contains("zero-shot, predicted from") && !report.contains("speaker-encoding:"),
        "{report}"
    );

    // 5. Say something in it: audio that plays, a mel spectrogram, the likeness shown.
    browser.type_into("#text", "Every voice tells a story of its own.");
    browser.click("#synthesize");
    browser.wait_for(
        "document.getElementById('result').dataset.state === 'done'",
        "the synthesis",
    );
    let seconds: f64 = browser
        .eval("return document.getElementById('result-audio').dataset.seconds;")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1.0..10.0).contains(&seconds), "{seconds} s of audio");
    // The browser decodes the WAV to the same length, and it plays.
    browser.wait_for(
        "document.getElementById('result-audio').readyState >= 1",
        "the audio's metadata",
    );
    let duration = browser
        .eval("return document.getElementById('result-audio').duration;")
        .as_f64()
        .unwrap();
    assert!((duration - seconds).abs() < 0.05, "{duration} vs {seconds}");
    browser.eval("const a = document.getElementById('result-audio'); a.muted = true; a.play();");
    browser.wait_for(
        "document.getElementById('result-audio').currentTime > 0.3",
        "playback",
    );
    assert!(
        browser.canvas_colours("mel") > 20,
        "the mel spectrogram is blank"
    );
    let similarity: f64 = browser
        .eval("return document.getElementById('similarity').innerText;")
        .as_str()
        .unwrap()
        .trim()
        .parse()
        .expect("a similarity number");
    assert!((0.3..1.0).contains(&similarity), "{similarity}");
    browser.wait_for(
        "document.getElementById('projection').dataset.points === '4'",
        "the result's point",
    );
    let href = browser.eval("return document.getElementById('save-profile').href;");
    assert!(href.as_str().unwrap().ends_with("/profile"), "{href}");
    let shot = browser.screenshot("3-synthesised");

    // A speed beyond the range is used as its limit, and the field shows the limit.
    browser.type_into("#speed", "10");
    browser.eval("document.getElementById('result').dataset.state = '';");
    browser.click("#synthesize");
    browser.wait_for(
        "document.getElementById('result').dataset.state === 'done'",
        "the synthesis at the top speed",
    );
    assert_eq!(
        browser.eval("return document.getElementById('speed').value;"),
        json!("4")
    );
    let fast: f64 = browser
        .eval("return document.getElementById('result-audio').dataset.seconds;")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        fast < seconds / 2.0,
        "{fast} s at speed 4, {seconds} s at 1"
    );
    browser.type_into("#speed", "1");

    // 6. Speaker adaptation from the microphone's recording, with progress, one step.
    browser.eval(
        "document.querySelectorAll('#utterances li').forEach(li => {
             const box = li.querySelector('.ref-check');
             box.checked = li.querySelector('.utt-label').innerText.includes('367');
             box.dispatchEvent(new Event('change'));
         });",
    );
    browser.type_into("#clone-name", "mic");
    browser.type_into("#adapt-steps", "1");
    browser.click("#clone-adapt");
    browser.wait_for(
        "document.getElementById('clone-status').dataset.state === 'done'",
        "the adapted clone",
    );
    let report = browser.eval("return document.getElementById('clone-report').innerText;");
    assert!(
        report
            .as_str()
            .unwrap()
            .contains("fitted to the recordings in 1 step"),
        "{report}"
    );
    browser.screenshot("4-adapted");
    eprintln!(
        "screenshots in {} (recording: {speech_seconds})",
        shot.parent().unwrap().display()
    );
}
