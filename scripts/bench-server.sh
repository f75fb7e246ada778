#!/usr/bin/env bash
# Load test of `voxclone serve` on loopback (bounded: LOAD_SECONDS per level, default 30): embedding
# and one-sentence synthesis at 1, 8 and 32 concurrent clients, with the server's defaults
# (2 running, 64 waiting). Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet -p voxclone-cli --bin voxclone -p voxclone-server --example load_test
port="${PORT:-8765}"
target/release/voxclone --quiet serve --bind "127.0.0.1:$port" 2>/tmp/voxclone-bench-server.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "server idle: $(grep VmRSS /proc/$server/status)"
target/release/examples/load_test "http://127.0.0.1:$port" "$server" "${LEVELS:-1,8,32}"
