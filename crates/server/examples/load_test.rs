//! A bounded load test of a running `voxclone serve` on loopback: N concurrent clients, each
//! sending requests back to back, for embedding and for one-sentence synthesis. Prints requests
//! per second, p50/p99 latency, the answers' statuses, and the server's memory (from /proc).
//!
//! ```sh
//! voxclone serve --bind 127.0.0.1:8000 &
//! cargo run --release -p voxclone-server --example load_test -- http://127.0.0.1:8000 $! 1,8,32
//! ```
//! `bash scripts/bench-server.sh` does all of it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SENTENCE: &str = "The quick brown fox jumps over the lazy dog.";
const CLIP: &[u8] = include_bytes!("../../../fixtures/speech/367-130732-0000.flac");

#[derive(Clone, Copy, Debug)]
enum Kind {
    Embed,
    Speech,
}

/// Resident memory of `pid` now and at its peak, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn one_request(url: &str, kind: Kind) -> u16 {
    let result = match kind {
        Kind::Embed => ureq::post(&format!("{url}/v1/embed"))
            .set("Content-Type", "audio/flac")
            .send_bytes(CLIP),
        Kind::Speech => ureq::post(&format!("{url}/v1/audio/speech")).send_json(
            serde_json::json!({ "model": "tts-1", "input": SENTENCE, "voice": "alloy" }),
        ),
    };
    match result {
        Ok(r) => {
            // Read the whole answer: the client has its audio only then.
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut r.into_reader(), &mut sink);
            200
        }
        Err(ureq::Error::Status(code, _)) => code,
        Err(_) => 0,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8000".into());
    let pid: u32 = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(0);
    let levels: Vec<usize> = args
        .get(3)
        .map_or("1,8,32", String::as_str)
        .split(',')
        .map(|n| n.parse().expect("client counts like 1,8,32"))
        .collect();
    // Each level runs this long (plus the requests in flight at its end).
    let seconds: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);

    println!("| route | clients | requests | req/s | p50 ms | p99 ms | statuses | server RSS MiB (peak) |");
    println!("|---|---|---|---|---|---|---|---|");
    for kind in [Kind::Embed, Kind::Speech] {
        // Warm the route once so the first request's one-off costs are not measured.
        one_request(&url, kind);
        for &clients in &levels {
            let latencies = Arc::new(Mutex::new(Vec::new()));
            let statuses = Arc::new(Mutex::new(BTreeMap::<u16, usize>::new()));
            let started = Instant::now();
            let stop_at = started + Duration::from_secs(seconds);
            let workers: Vec<_> = (0..clients)
                .map(|_| {
                    let (url, latencies, statuses) =
                        (url.clone(), latencies.clone(), statuses.clone());
                    std::thread::spawn(move || {
                        while Instant::now() < stop_at {
                            let t = Instant::now();
                            let status = one_request(&url, kind);
                            let ms = t.elapsed().as_secs_f64() * 1000.0;
                            *statuses.lock().unwrap().entry(status).or_default() += 1;
                            if status == 200 {
                                latencies.lock().unwrap().push(ms);
                            } else {
                                // A refused client backs off as Retry-After asks.
                                std::thread::sleep(Duration::from_secs(1));
                            }
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
            let wall = started.elapsed().as_secs_f64();
            let mut ok = latencies.lock().unwrap().clone();
            ok.sort_by(f64::total_cmp);
            let (rss, peak) = memory_mib(pid);
            let statuses: Vec<String> = statuses
                .lock()
                .unwrap()
                .iter()
                .map(|(s, n)| format!("{s}×{n}"))
                .collect();
            println!(
                "| {kind:?} | {clients} | {} | {:.2} | {:.0} | {:.0} | {} | {rss:.0} ({peak:.0}) |",
                ok.len(),
                ok.len() as f64 / wall,
                percentile(&ok, 0.5),
                percentile(&ok, 0.99),
                statuses.join(" "),
            );
        }
    }
}
