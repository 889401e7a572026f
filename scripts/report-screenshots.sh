#!/usr/bin/env bash
# Screenshots of report.html for the README: trains a tiny byte-level GPT on this repository's Markdown for 240
# steps with a validation loss every 20 (a minute or two on two cores), then has headless Chromium (Debian's
# `chromium`; `apt-get install -y chromium`) render the report and saves the top of the page (loss with validation,
# evaluations, learning rate) and the rest (gradient norm, throughput, memory) as docs/report-*.png.
# Chromium runs isolated: no network services, a throwaway profile.
#   scripts/report-screenshots.sh [WORK_DIR]    (default: a fresh temporary directory, kept for inspection)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
mkdir -p "$work" docs
cat README.md LAYOUT.md > "$work/corpus.txt"
./accrue prepare --data "$work/corpus.txt" --tokenizer bytes --val-fraction 0.1 --progress plain \
    --out "$work/data" > "$work/prepare.log"
./accrue train --data "$work/data" --model tiny --context 64 -b 8 -k 2 --steps 240 --warmup 20 --eval-every 20 \
    --eval-tokens 8192 --out "$work/run" > "$work/train.log"
shot() { # shot OUT.png HEIGHT SCROLL: the page from SCROLL pixels down, HEIGHT pixels high, 800 wide
    local page="$work/view-$3.html"
    # a frame on the report scrolled to SCROLL, so that a viewport-sized screenshot shows that part
    printf '<!DOCTYPE html><html><body style="margin:0;overflow:hidden"><iframe src="run/report.html#" id="f" %s' \
        'style="border:0;width:800px;height:'"$(( $2 + $3 ))"'px;margin-top:-'"$3"'px"></iframe></body></html>' > "$page"
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
        --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$(mktemp -d)" \
        --window-size=800,"$2" --screenshot="$1" "file://$page" 2> "$work/chromium.log"
}
shot docs/report-loss.png 1190 0
shot docs/report-more.png 1180 1190
echo "report: $work/run/report.html; screenshots: docs/report-loss.png, docs/report-more.png"
