#!/usr/bin/env bash
# Every check the project makes: formatting, lints, and all tests (unit tests, parity with
# Resemblyzer's golden data using the real pretrained weights from PyPI, CLI and bad-input tests).
# Needs PyPI on first run (weights are cached in ~/.cache/voxclone) and ../shared/data beside the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
