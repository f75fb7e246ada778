#!/usr/bin/env bash
# Cloning on LibriSpeech test-other judged by independent ears: `voxclone eval-clone` (GE2E likeness and speaker ID,
# the ear the clones are conditioned on) for each route, then, on the same clone sentences,
# ../shared/tools/speaker-judge (SpeechBrain's ECAPA-TDNN, trained without GE2E: similarity to each speaker's
# held-out recordings, normalised, and identification among the speakers; DNSMOS OVRL) and ../shared/tools/asr-judge
# (WER as written and with numerals read as words).
#
#   bash scripts/judge-clones.sh [DIR] [ROUTE...]   (default: ../shared/data/librispeech-test-other; bank nearest-stock)
#
# Routes: bank (the built-in speaker-encoding bank), nearest-stock (the closest stock voice of the cloning base),
# adapted (bank start + speaker adaptation; slow without AMX), NAME=FILE (the bank in FILE, reported as NAME).
# eval-clone's split: each speaker's first 3 recordings (sorted by name) are the reference, the rest held out.
# Normalised similarity = (clone - stranger) / (same speaker - stranger), both ends measured by the judge on the same
# data: a speaker's own reference recordings against the centroid of their held-out ones, and the other speakers'.
# Needs a release build or VOXCLONE_BIN. KEEP=DIR keeps the audio; with REUSE=1 as well, clones already in DIR are
# judged again without being made again. A measuring script: the product never calls the judges.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-${VOXCLONE_SHARED_DATA:-../shared/data}/librispeech-test-other}"
shift || true
routes=("$@")
[ ${#routes[@]} -gt 0 ] || routes=(bank nearest-stock)
judge="${SPEAKER_JUDGE:-../shared/tools/speaker-judge}"
asr="${ASR_JUDGE:-../shared/tools/asr-judge}"
vc="${VOXCLONE_BIN:-target/release/voxclone}"
work="${KEEP:-$(mktemp -d)}"
mkdir -p "$work" bench/results
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); data: $data; work: $work"

speakers=$(find "$data" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
names=()
for route in "${routes[@]}"; do
  names+=("${route%%=*}")
  flags=()
  case "$route" in
    bank) ;;
    nearest-stock) flags=(--nearest-stock) ;;
    adapted) flags=(--adapt) ;;
    *=*) flags=(--bank "${route#*=}") ;;
    *) echo "unknown route $route" >&2; exit 2 ;;
  esac
  # REUSE=1 keeps clones already made in KEEP (to judge them again).
  route="${route%%=*}"
  [ -n "${REUSE:-}" ] && [ -f "$work/$route/list.tsv" ] && continue
  rm -rf "$work/$route"
  RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-2}" "$vc" --quiet eval-clone "$data" --json \
    --keep-audio "$work/$route" "${flags[@]}" > "bench/results/eval-clone-$route.json"
done

# One judge call per speaker: its held-out recordings are the references; every speaker's reference recordings
# (same speaker and strangers) and every clone of every route are scored against their centroid (identification:
# the centroid a clone is closest to).
refs_of_all=()
for s in $speakers; do refs_of_all+=($(ls "$data/$s"/*.flac | sort | head -3)); done
clones=()
for route in "${names[@]}"; do clones+=("$work/$route"/*.wav); done
for t in $speakers; do
  files=($(ls "$data/$t"/*.flac | sort))
  "$judge" sim --json "${files[@]:3}" -- "${refs_of_all[@]}" "${clones[@]}" > "$work/judge-$t.json"
done

# Quality and intelligibility of the same clones.
for route in "${names[@]}"; do
  "$judge" mos --json "$work/$route" > "$work/mos-$route.json"
  "$asr" "$work/$route/list.tsv" > "$work/asr-$route.txt"
  python3 scripts/wer_numerals.py "$work/$route/list.tsv" "$work/asr-$route.txt" | grep '^WER' > "$work/asr-numerals-$route.txt" || true
done

python3 - "$work" "$data" "${names[@]}" <<'EOF'
import json, os, sys
work, data, routes = sys.argv[1], sys.argv[2], sys.argv[3:]
speakers = sorted(d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d)))
m = lambda xs: sum(xs) / len(xs)
judged = {t: json.load(open(f"{work}/judge-{t}.json"))["per_file"] for t in speakers}
def real(t, s):  # speaker s's reference recordings against t's held-out centroid
    return m([v["ecapa"] for f, v in judged[t].items()
              if os.path.basename(f).startswith(s + "-") and f.endswith(".flac")])
owner = lambda f: os.path.basename(f).split("-")[0]
for route in routes:
    result = json.load(open(f"bench/results/eval-clone-{route}.json"))
    ge2e = {sp["speaker"]: sp["similarity"] for sp in result["speakers"]}
    clones = sorted(f for f in judged[speakers[0]] if f.startswith(f"{work}/{route}/"))
    hits = sum(max(speakers, key=lambda t: judged[t][f]["ecapa"]) == owner(f) for f in clones)
    print(f"== {route}")
    print(f"{'speaker':<8} {'GE2E':>6} {'judge':>6} {'same':>6} {'strngr':>6} {'normalised':>10}")
    rows = []
    for t in speakers:
        clone = m([judged[t][f]["ecapa"] for f in clones if owner(f) == t])
        same, stranger = real(t, t), m([real(t, s) for s in speakers if s != t])
        rows.append((ge2e.get(t, float("nan")), clone, (clone - stranger) / (same - stranger)))
        print(f"{t:<8} {rows[-1][0]:6.3f} {clone:6.3f} {same:6.3f} {stranger:6.3f} {rows[-1][2]:10.3f}")
    print(f"{'MEAN':<8} {m([r[0] for r in rows]):6.3f} {m([r[1] for r in rows]):6.3f} {'':>6} {'':>6} "
          f"{m([r[2] for r in rows]):10.3f}")
    mos = json.load(open(f"{work}/mos-{route}.json"))["mean"]
    asr = open(f"{work}/asr-{route}.txt").read().strip().splitlines()[-1]
    numerals = open(f"{work}/asr-numerals-{route}.txt").read().strip()
    print(f"identified among the {len(speakers)}: judge {hits}/{len(clones)} ({100 * hits / len(clones):.0f}%), "
          f"GE2E {100 * result['identification']:.0f}%; DNSMOS OVRL {mos['OVRL']:.2f}; ASR {asr}; {numerals}")
EOF
