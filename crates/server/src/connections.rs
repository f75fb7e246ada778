//! The connections themselves: how many are held, and how long a client may take to send a
//! request. A client that opens connections and sends nothing, half a header, or a body that
//! never ends (slowloris) must not hold the server: headers have [`HEADER_READ_TIMEOUT`], each
//! piece of a body [`BODY_READ_TIMEOUT`], and beyond [`MAX_CONNECTIONS`] open connections a new
//! one is closed at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The whole request head must arrive within this.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Each piece of a request body must arrive within this of the last (a slow upload that keeps
/// sending is fine; one that stops is not).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(20);
/// Open connections at most; a browser uses six per page, an API client a few.
pub const MAX_CONNECTIONS: usize = 256;

/// Accepts connections until `shutdown` resolves, then lets those open finish for up to `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let app = app.layer(axum::middleware::from_fn(body_read_timeout));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: the next accept may work.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "{MAX_CONNECTIONS} connections open; closing a new one");
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("requests still open after {} s; stopping anyway", grace.as_secs());
        }
    }
    Ok(())
}

/// Gives every request body [`BODY_READ_TIMEOUT`] between pieces.
async fn body_read_timeout(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = Body::new(TimedBody {
        inner: body,
        idle: None,
    });
    next.run(Request::from_parts(parts, body)).await
}

/// A body that fails when no piece arrives for [`BODY_READ_TIMEOUT`].
struct TimedBody {
    inner: Body,
    /// Started when a poll finds nothing ready; reset by every piece.
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl HttpBody for TimedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                self.idle = None;
                Poll::Ready(frame)
            }
            Poll::Pending => {
                let idle = self
                    .idle
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(BODY_READ_TIMEOUT)));
                match idle.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(format!(
                        "the request body stalled for {} s",
                        BODY_READ_TIMEOUT.as_secs()
                    ))))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
