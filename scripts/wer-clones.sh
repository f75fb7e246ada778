#!/usr/bin/env bash
# Cloning on LibriSpeech test-other, both routes, judged twice: by the GE2E encoder (eval-clone:
# likeness, speaker ID, pitch) and by the ASR judge (../shared/tools/asr-judge: intelligibility of the
# same clone sentences, WER).
#
#   bash scripts/wer-clones.sh [DIR]     (default: ../shared/data/librispeech-test-other)
#
# Writes eval-clone's JSON for each route to bench/results/ and prints the judge's WER, as
# written and with numerals read as words (scripts/wer_numerals.py: "nine" heard as "9" is
# not a wrong word), and the words still wrong.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-${VOXCLONE_SHARED_DATA:-../shared/data}/librispeech-test-other}"
judge="${ASR_JUDGE:-../shared/tools/asr-judge}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -q -p voxclone-cli
mkdir -p bench/results
for route in zero-shot adapted; do
  flags=()
  [ "$route" = adapted ] && flags=(--adapt)
  RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-2}" ./target/release/voxclone --quiet eval-clone "$data" --json \
    --keep-audio "$work/$route" "${flags[@]}" > "bench/results/eval-clone-$route.json"
  echo "== $route"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print({k: v for k, v in d.items() if k != "speakers"})' \
    "bench/results/eval-clone-$route.json"
  "$judge" "$work/$route/list.tsv" > "$work/$route.judge"
  tail -1 "$work/$route.judge"
  python3 scripts/wer_numerals.py "$work/$route/list.tsv" "$work/$route.judge"
done
