//! `voxclone serve`: the toolbox and the HTTP API.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;
use voxclone::EncodingChoice;
use voxclone_server::{self as server, AppState, ServeOptions};

use super::Context;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one). Keep it on loopback unless a proxy in
    /// front adds authentication: the API has none.
    #[arg(long, default_value = "127.0.0.1:8000")]
    bind: SocketAddr,
    /// Keep cloned voice profiles in this folder, across restarts (default: in memory only).
    #[arg(long, value_name = "DIR")]
    profiles: Option<PathBuf>,
    /// Requests running the networks at once (more share the same cores).
    #[arg(long, default_value_t = 2, value_name = "N")]
    max_running: usize,
    /// Requests that may wait for a turn; more get 429 at once.
    #[arg(long, default_value_t = 64, value_name = "N")]
    max_waiting: usize,
    /// Seconds a request may wait and run (to its first audio, for streamed speech).
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    timeout: u64,
    /// Largest upload, in megabytes.
    #[arg(long, default_value_t = 25, value_name = "MB")]
    max_upload_mb: usize,
    /// Longest text to speak, in characters.
    #[arg(long, default_value_t = 4096, value_name = "N")]
    max_text: usize,
    /// Zero-shot cloning from this speaker-encoding bank instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    bank: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: ServeArgs) -> Result<()> {
    anyhow::ensure!(args.max_running > 0, "--max-running must be at least 1");
    anyhow::ensure!(args.timeout > 0, "--timeout must be at least 1 second");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "voxclone=info".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    // Bind before loading the models so a taken port fails at once.
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.bind))
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let address = listener.local_addr()?;

    let encoding = match &args.bank {
        Some(path) => EncodingChoice::Bank(path.clone()),
        None => EncodingChoice::Shipped,
    };
    let engine = ctx.engine(ctx.tts()?, &encoding)?;
    let options = ServeOptions {
        max_running: args.max_running,
        max_waiting: args.max_waiting,
        timeout: Duration::from_secs(args.timeout),
        max_body_bytes: args.max_upload_mb << 20,
        max_text_chars: args.max_text,
        profiles_dir: args.profiles,
        ..ServeOptions::default()
    };
    let state = AppState::new(engine, options).map_err(|e| anyhow::anyhow!(e.message))?;
    // Handlers go in before the first request is answered: a SIGTERM sent as soon as the server
    // announces itself must stop it cleanly, not kill it.
    let stop = {
        let _in_runtime = runtime.enter();
        let signal = stop_signal().context("installing the signal handlers")?;
        async {
            signal.await;
            eprintln!("voxclone: stopping: finishing requests in flight");
        }
    };
    // Tests and scripts read this line for the address (the port may have been picked).
    eprintln!("voxclone: serving the toolbox at http://{address}/ (API under /v1, description at /openapi.json)");
    runtime.block_on(server::serve(listener, state, stop))?;
    // Work still running (an adaptation) was told to stop; give it a moment, then leave.
    runtime.shutdown_timeout(Duration::from_secs(5));
    eprintln!("voxclone: stopped");
    Ok(())
}

/// A future that ends at Ctrl-C or SIGTERM. The handlers are installed when this is called (in
/// the runtime's context), not when the future is first polled.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
