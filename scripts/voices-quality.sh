#!/usr/bin/env bash
# Intelligibility and quality of stock voices, same run: each voice says the 60 sentences of
# bench/wer_sentences.txt (seed 0), ../shared/tools/asr-judge scores the word error rate (as written, and with
# numerals read as words: scripts/wer_numerals.py), and ../shared/tools/speaker-judge scores DNSMOS beside real
# LibriSpeech speech (test-other, all recordings).
#
#   bash scripts/voices-quality.sh [VOICE...]     (default: af_heart am_michael jf_alpha)
#
# Uses VOXCLONE_BIN (default target/release/voxclone). A measuring script: the product never calls the judges.
set -euo pipefail
cd "$(dirname "$0")/.."
voices=("$@")
[ ${#voices[@]} -gt 0 ] || voices=(af_heart am_michael jf_alpha)
vc="${VOXCLONE_BIN:-target/release/voxclone}"
asr="${ASR_JUDGE:-../shared/tools/asr-judge}"
judge="${SPEAKER_JUDGE:-../shared/tools/speaker-judge}"
real="${VOXCLONE_SHARED_DATA:-../shared/data}/librispeech-test-other"
work="${KEEP:-$(mktemp -d)}"
mkdir -p "$work"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); work: $work"
for voice in "${voices[@]}"; do
  mkdir -p "$work/$voice"
  : > "$work/$voice/list.tsv"
  i=0
  while IFS= read -r text; do
    [ -n "$text" ] || continue
    wav="$work/$voice/$(printf %03d "$i").wav"
    "$vc" --quiet speak --voice "$voice" --text "$text" -o "$wav"
    printf '%s\t%s\n' "$wav" "$text" >> "$work/$voice/list.tsv"
    i=$((i + 1))
  done < bench/wer_sentences.txt
  "$asr" "$work/$voice/list.tsv" > "$work/$voice.asr"
  echo "== $voice: $(tail -1 "$work/$voice.asr")"
  python3 scripts/wer_numerals.py "$work/$voice/list.tsv" "$work/$voice.asr" | tail -3
  "$judge" mos "$work/$voice" | tail -1
done
echo "== real speech (LibriSpeech test-other, $(find "$real" -name '*.flac' | wc -l) recordings)"
"$judge" mos "$real" | tail -1
