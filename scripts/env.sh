# Sourced by the scripts in this folder: where the cache lives and which tools to use.
# Everything downloaded or built goes under $LFM_CACHE, outside git.
export LFM_ROOT="${LFM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export LFM_CACHE="${LFM_CACHE:-$HOME/.cache/lfm}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$LFM_CACHE/cargo-target}"
export LFM_PY="$LFM_CACHE/venv/bin/python"
export PYTHONPATH="$LFM_ROOT/testbed:$LFM_ROOT/tests/e2e${PYTHONPATH:+:$PYTHONPATH}"
# The test bed is reached over loopback only; never through a proxy.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
mkdir -p "$LFM_CACHE"
