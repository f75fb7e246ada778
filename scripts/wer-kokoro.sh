#!/usr/bin/env bash
# Intelligibility of synthesized English: voxclone (our front-end + our Kokoro port) beside the
# reference (Kokoro on ONNX Runtime reading espeak-ng phonemes), same sentences, same voice, scored
# in the same run by the ASR judge (../shared/tools/asr-judge: Whisper via faster-whisper; WER).
#
#   bash scripts/wer-kokoro.sh [SENTENCES.txt] [VOICE]     (default: bench/wer_sentences.txt, jf_alpha)
#
# Needs espeak-ng (for the reference only) and the ONNX Runtime venv (scripts/kokoro-reference-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
sentences="${1:-bench/wer_sentences.txt}"
voice="${2:-jf_alpha}"
judge="${ASR_JUDGE:-../shared/tools/asr-judge}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --release -q -p voxclone-cli
bash scripts/kokoro-reference-venv.sh >/dev/null

mkdir -p "$work/ours" "$work/reference"
i=0
while IFS= read -r text; do
  [ -n "$text" ] || continue
  wav="$work/ours/$(printf %03d "$i").wav"
  ./target/release/voxclone --quiet speak --voice "$voice" --text "$text" -o "$wav"
  printf '%s\t%s\n' "$wav" "$text" >> "$work/ours/list.tsv"
  i=$((i + 1))
done < "$sentences"
.venv-kokoro/bin/python scripts/kokoro_espeak_speak.py "$sentences" "$work/reference" --voice "$voice" 2>/dev/null

echo "== voxclone ($voice)"
"$judge" "$work/ours/list.tsv" | tee "$work/ours.txt" | tail -1
echo "== reference: ONNX Runtime + espeak-ng ($voice)"
"$judge" "$work/reference/list.tsv" | tee "$work/reference.txt" | tail -1
if [ -n "${KEEP:-}" ]; then cp -r "$work" "$KEEP"; echo "kept in $KEEP"; fi
