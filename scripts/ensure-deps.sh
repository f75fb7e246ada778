#!/usr/bin/env bash
# Installs what building voxclone needs on a fresh Debian/Ubuntu machine, and nothing when it is
# already there: a C compiler (WebRTC VAD and TLS are built from C), CA certificates, espeak-ng
# (pronunciations of words the lexicons lack), Chromium and ChromeDriver (the toolbox's browser
# test), Python with venv (the OpenAI client test), and a Rust toolchain (rustup's, since Debian's
# cargo is too old for candle).
set -euo pipefail

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
[ -e /etc/ssl/certs/ca-certificates.crt ] || need_apt+=(ca-certificates)
command -v cargo >/dev/null 2>&1 || [ -x "$HOME/.cargo/bin/cargo" ] || need_apt+=(curl)
# The English front-end's fallback for words its lexicons lack (a separate GPL-3 program, optional
# at run time; the tests expect it).
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
# The toolbox's browser test drives Debian's Chromium headless through ChromeDriver.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
# The API's compatibility test runs the official OpenAI Python client in a virtual environment.
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c 'import ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
# The PyTorch reference for the RTVC Tacotron/WaveRNN parity tests (tests/rtvc_parity.rs):
# Debian's CPU build of torch, about 140 MB, where PyPI's wheels bring 3 GB of CUDA libraries.
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || need_apt+=(python3-torch)

if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian packages: ${need_apt[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ ! -x "$HOME/.cargo/bin/cargo" ]; then
    echo "installing the Rust toolchain with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
  fi
  echo "note: add \$HOME/.cargo/bin to PATH (source \$HOME/.cargo/env)" >&2
fi
