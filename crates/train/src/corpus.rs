//! Speech corpora on disk: which recordings belong to which speaker, with transcripts where the
//! layout has them. Training and preprocessing read every corpus through [`Corpus::scan`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Extensions the audio front-end decodes.
pub const AUDIO_EXTENSIONS: &[&str] = &["wav", "flac", "mp3", "ogg", "oga", "m4a", "mp4", "aac"];

/// The directory layouts `scan` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `<speaker>/<chapter>/<speaker>-<chapter>-<n>.flac`, transcripts in `<speaker>-<chapter>.trans.txt`.
    LibriSpeech,
    /// `<speaker>/<chapter>/<id>.wav`, transcript in `<id>.normalized.txt` (or `.original.txt`).
    LibriTts,
    /// `wav48*/<speaker>/<id>.(wav|flac)`, transcript in `txt/<speaker>/<id>.txt`.
    Vctk,
    /// `wavs/<id>.wav` of one speaker, transcripts in `metadata.csv` (`id|text|normalised text`).
    LjSpeech,
    /// `<speaker>/**/<audio>`: VoxCeleb and any one-folder-per-speaker collection; no transcripts.
    SpeakerFolders,
}

impl Layout {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "librispeech" => Layout::LibriSpeech,
            "libritts" => Layout::LibriTts,
            "vctk" => Layout::Vctk,
            "ljspeech" => Layout::LjSpeech,
            "voxceleb" | "folders" => Layout::SpeakerFolders,
            _ => return None,
        })
    }

    /// Guesses the layout from the files present.
    pub fn detect(root: &Path) -> Self {
        if root.join("metadata.csv").is_file() && root.join("wavs").is_dir() {
            return Layout::LjSpeech;
        }
        if root.join("txt").is_dir() && vctk_audio_dir(root).is_some() {
            return Layout::Vctk;
        }
        let mut stack = vec![root.to_path_buf()];
        let mut seen = 0;
        while let Some(dir) = stack.pop() {
            for path in sorted_entries(&dir) {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if name.ends_with(".trans.txt") {
                    return Layout::LibriSpeech;
                }
                if name.ends_with(".normalized.txt") {
                    return Layout::LibriTts;
                }
                if path.is_dir() && seen < 200 {
                    seen += 1;
                    stack.push(path);
                }
            }
        }
        Layout::SpeakerFolders
    }
}

/// One recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    pub speaker: String,
    /// Unique within the speaker.
    pub id: String,
    pub audio: PathBuf,
    pub transcript: Option<String>,
}

/// The recordings of a corpus, grouped by speaker (speakers and utterances sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corpus {
    pub layout: Layout,
    pub speakers: Vec<(String, Vec<Utterance>)>,
}

impl Corpus {
    /// Lists `root`'s recordings in `layout` (detected when `None`).
    pub fn scan(root: &Path, layout: Option<Layout>) -> std::io::Result<Self> {
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: not a folder", root.display()),
            ));
        }
        let layout = layout.unwrap_or_else(|| Layout::detect(root));
        let mut utterances = match layout {
            Layout::LjSpeech => ljspeech(root)?,
            Layout::Vctk => vctk(root),
            Layout::LibriSpeech | Layout::LibriTts | Layout::SpeakerFolders => {
                per_speaker_folders(root, layout)
            }
        };
        utterances.sort_by(|a, b| (&a.speaker, &a.id).cmp(&(&b.speaker, &b.id)));
        let mut speakers: Vec<(String, Vec<Utterance>)> = Vec::new();
        for u in utterances {
            match speakers.last_mut() {
                Some((s, list)) if *s == u.speaker => list.push(u),
                _ => speakers.push((u.speaker.clone(), vec![u])),
            }
        }
        Ok(Self { layout, speakers })
    }

    pub fn utterance_count(&self) -> usize {
        self.speakers.iter().map(|(_, u)| u.len()).sum()
    }
}

/// A file whose extension the audio front-end decodes.
pub fn is_audio(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|it| it.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

fn audio_below(dir: &Path, out: &mut Vec<PathBuf>) {
    for path in sorted_entries(dir) {
        if path.is_dir() {
            audio_below(&path, out);
        } else if is_audio(&path) {
            out.push(path);
        }
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One sub-folder per speaker (LibriSpeech, LibriTTS, VoxCeleb, plain folders).
fn per_speaker_folders(root: &Path, layout: Layout) -> Vec<Utterance> {
    let mut out = Vec::new();
    for speaker_dir in sorted_entries(root).into_iter().filter(|p| p.is_dir()) {
        let speaker = stem(&speaker_dir);
        let mut files = Vec::new();
        audio_below(&speaker_dir, &mut files);
        let mut transcripts: HashMap<PathBuf, HashMap<String, String>> = HashMap::new();
        for audio in files {
            let id = audio
                .strip_prefix(&speaker_dir)
                .unwrap_or(&audio)
                .with_extension("")
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "_");
            let transcript = match layout {
                Layout::LibriSpeech => {
                    let dir = audio.parent().unwrap_or(root).to_path_buf();
                    let table = transcripts
                        .entry(dir.clone())
                        .or_insert_with(|| librispeech_transcripts(&dir));
                    table.get(&stem(&audio)).cloned()
                }
                Layout::LibriTts => ["normalized", "original"]
                    .iter()
                    .find_map(|kind| read_transcript(&audio.with_extension(format!("{kind}.txt")))),
                _ => None,
            };
            out.push(Utterance {
                speaker: speaker.clone(),
                id,
                audio,
                transcript,
            });
        }
    }
    out
}

/// A one-utterance transcript file, trimmed; `None` if there is none.
fn read_transcript(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|t| t.trim().to_string())
}

/// `<id> <TEXT>` lines of every `*.trans.txt` in `dir`.
fn librispeech_transcripts(dir: &Path) -> HashMap<String, String> {
    let mut table = HashMap::new();
    for path in sorted_entries(dir) {
        if path.to_string_lossy().ends_with(".trans.txt") {
            for line in std::fs::read_to_string(&path).unwrap_or_default().lines() {
                if let Some((id, text)) = line.split_once(' ') {
                    table.insert(id.to_string(), text.trim().to_string());
                }
            }
        }
    }
    table
}

fn vctk_audio_dir(root: &Path) -> Option<PathBuf> {
    sorted_entries(root)
        .into_iter()
        .find(|p| p.is_dir() && stem(p).starts_with("wav48"))
}

fn vctk(root: &Path) -> Vec<Utterance> {
    let Some(audio_root) = vctk_audio_dir(root) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for speaker_dir in sorted_entries(&audio_root)
        .into_iter()
        .filter(|p| p.is_dir())
    {
        let speaker = stem(&speaker_dir);
        for audio in sorted_entries(&speaker_dir)
            .into_iter()
            .filter(|p| is_audio(p))
        {
            // VCTK 0.92 names files <speaker>_<n>_mic1.flac; its text is <speaker>_<n>.txt.
            let id = stem(&audio);
            let text_id = id.trim_end_matches("_mic1").trim_end_matches("_mic2");
            let transcript = read_transcript(
                &root
                    .join("txt")
                    .join(&speaker)
                    .join(format!("{text_id}.txt")),
            );
            out.push(Utterance {
                speaker: speaker.clone(),
                id,
                audio,
                transcript,
            });
        }
    }
    out
}

fn ljspeech(root: &Path) -> std::io::Result<Vec<Utterance>> {
    let metadata = std::fs::read_to_string(root.join("metadata.csv"))?;
    Ok(metadata
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('|');
            let id = fields.next()?.trim().to_string();
            let raw = fields.next().map(str::trim);
            let normalised = fields.next().map(str::trim).filter(|t| !t.is_empty());
            let audio = root.join("wavs").join(format!("{id}.wav"));
            audio.is_file().then(|| Utterance {
                speaker: "LJ".to_string(),
                id,
                audio,
                transcript: normalised.or(raw).map(str::to_string),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path, contents: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    #[test]
    fn librispeech_with_transcripts() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        touch(&r.join("84/121123/84-121123-0000.flac"), "");
        touch(&r.join("84/121123/84-121123-0001.flac"), "");
        touch(
            &r.join("84/121123/84-121123.trans.txt"),
            "84-121123-0000 GO DO YOU HEAR\n84-121123-0001 BUT IN LESS THAN FIVE MINUTES\n",
        );
        touch(&r.join("174/50561/174-50561-0000.flac"), "");
        let c = Corpus::scan(r, None).unwrap();
        assert_eq!(c.layout, Layout::LibriSpeech);
        assert_eq!(c.speakers.len(), 2);
        assert_eq!(c.speakers[1].0, "84");
        assert_eq!(
            c.speakers[1].1[0].transcript.as_deref(),
            Some("GO DO YOU HEAR")
        );
        assert_eq!(c.speakers[0].1[0].transcript, None);
    }

    #[test]
    fn libritts_vctk_ljspeech_and_plain_folders() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path().join("libritts");
        touch(&r.join("19/198/19_198_000000_000000.wav"), "");
        touch(
            &r.join("19/198/19_198_000000_000000.normalized.txt"),
            "Chapter one.\n",
        );
        let c = Corpus::scan(&r, None).unwrap();
        assert_eq!(c.layout, Layout::LibriTts);
        assert_eq!(
            c.speakers[0].1[0].transcript.as_deref(),
            Some("Chapter one.")
        );

        let r = d.path().join("vctk");
        touch(&r.join("wav48_silence_trimmed/p225/p225_001_mic1.flac"), "");
        touch(&r.join("txt/p225/p225_001.txt"), "Please call Stella.\n");
        let c = Corpus::scan(&r, None).unwrap();
        assert_eq!(c.layout, Layout::Vctk);
        assert_eq!(c.speakers[0].0, "p225");
        assert_eq!(
            c.speakers[0].1[0].transcript.as_deref(),
            Some("Please call Stella.")
        );

        let r = d.path().join("lj");
        touch(&r.join("wavs/LJ001-0001.wav"), "");
        touch(
            &r.join("metadata.csv"),
            "LJ001-0001|Printing, in 1 sense|Printing, in one sense\nLJ001-0002|missing|missing\n",
        );
        let c = Corpus::scan(&r, None).unwrap();
        assert_eq!(c.layout, Layout::LjSpeech);
        assert_eq!(c.utterance_count(), 1);
        assert_eq!(
            c.speakers[0].1[0].transcript.as_deref(),
            Some("Printing, in one sense")
        );

        let r = d.path().join("vox");
        touch(&r.join("id10001/1zcIwhmdeo4/00001.wav"), "");
        touch(&r.join("id10001/1zcIwhmdeo4/00002.m4a"), "");
        touch(&r.join("id10002/x/00001.wav"), "");
        touch(&r.join("id10002/notes.txt"), "");
        let c = Corpus::scan(&r, None).unwrap();
        assert_eq!(c.layout, Layout::SpeakerFolders);
        assert_eq!(c.utterance_count(), 3);
        assert_eq!(c.speakers[0].1[1].id, "1zcIwhmdeo4_00002");
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        assert!(Corpus::scan(Path::new("/no/such/corpus"), None).is_err());
    }
}
