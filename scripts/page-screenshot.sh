#!/bin/sh
# The README screenshot of `salvage page`: the fixture image's shop.sessions
# leaf page (space 34, page 3; five rows) with its rows decoded, coloured,
# converted to HTML (scripts/ansi2html.py) and, when chromium is installed,
# rendered to docs/page.png (without chromium: docs/page.html instead).
#
#   scripts/page-screenshot.sh            (from the repository root)
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
zstd -dqf fixtures/images/main-ext4-modern.img.zst -o "$tmp/main.img"
# 23552000: the byte offset of the page in the image (`salvage scan
# --list-pages` lists it).
./target/release/salvage page "$tmp/main.img" 23552000 \
    --schema fixtures/main/truth/schema.sql --color always >"$tmp/page.ansi"
mkdir -p docs
python3 scripts/ansi2html.py <"$tmp/page.ansi" >"$tmp/page.html"
if command -v chromium >/dev/null 2>&1; then
    chromium --headless --no-sandbox --hide-scrollbars \
        --screenshot="$PWD/docs/page.png" --window-size=1100,900 \
        "file://$tmp/page.html" 2>/dev/null
    echo "wrote docs/page.png"
else
    cp "$tmp/page.html" docs/page.html
    echo "chromium not installed: wrote docs/page.html"
fi
