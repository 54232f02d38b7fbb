#!/usr/bin/env bash
# Checks the HTML report as a person sees it: renders the Peterborough run report in headless
# Chromium (Debian's `chromium`), takes a screenshot, and fails when
#   - the page fetches anything, or logs anything to the console (it has no script, so any message is an error:
#     a resource it tried to fetch, a blocked load...);
#   - the page, read as XHTML by the browser's XML parser, is not well-formed (its charts are
#     then not all found);
#   - any chart's area in the screenshot holds no data: nothing in colour (axes, grid and labels
#     are grey), only background pixels included.
# Usage: scripts/check-report.sh [SCREENSHOT.png]   (after a build in BUILD_DIR, default build/;
#        the optional argument keeps the screenshot, e.g. docs/images/peterborough-report.png)
# Needs chromium and /usr/bin/python3 (standard library only: the PNG is decoded with zlib).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$build_dir/sibsim" run scenarios/peterborough.yaml -n 20000 -j 2 --report "$work/report.html" --quiet

# Chromium refuses to run as root without --no-sandbox; the page is a local file we just wrote.
chromium_flags=(--headless --disable-gpu --hide-scrollbars --force-device-scale-factor=1
                --enable-logging=stderr --v=0 --no-first-run --disable-extensions)
[ "$(id -u)" -ne 0 ] || chromium_flags+=(--no-sandbox)
width=900

# 1. Where each chart is: a copy served as XHTML (the browser's XML parser) with a script that,
#    once the page has loaded, logs each chart's box, every resource the page fetched (there must
#    be none) and the page height. Layout is the report's own: the script adds nothing visible.
/usr/bin/python3 - "$work/report.html" "$work/located.xhtml" <<'EOF'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
script = """<script><![CDATA[
addEventListener("load", () => {
  for (const c of document.querySelectorAll("svg.chart")) {
    const r = c.getBoundingClientRect();
    console.log(["CHART", c.id, Math.round(r.left + scrollX), Math.round(r.top + scrollY),
                 Math.round(r.width), Math.round(r.height)].join(" "));
  }
  for (const e of performance.getEntriesByType("resource")) console.log("FETCH " + e.name);
  console.log("PAGE " + document.documentElement.scrollHeight);
});
]]></script>"""
assert text.count("</body>") == 1
open(sys.argv[2], "w", encoding="utf-8").write(text.replace("</body>", script + "</body>"))
EOF
timeout 120 chromium "${chromium_flags[@]}" --window-size="$width,2000" --dump-dom \
    "file://$work/located.xhtml" >/dev/null 2>"$work/located.log" || true
grep -o 'CONSOLE[^"]*"[^"]*"' "$work/located.log" | sed 's/^[^"]*"//; s/"$//' >"$work/boxes.txt" || true
height=$(sed -n 's/^PAGE //p' "$work/boxes.txt")
if grep -q '^FETCH ' "$work/boxes.txt"; then
    echo "check-report: the page fetched:" >&2
    grep '^FETCH ' "$work/boxes.txt" >&2
    exit 1
fi
if [ -z "$height" ]; then
    echo "check-report: the page did not load as XHTML (not well-formed?)" >&2
    cat "$work/located.log" >&2
    exit 1
fi

# 2. The report itself, untouched, at the page's full height: screenshot and console.
timeout 120 chromium "${chromium_flags[@]}" --window-size="$width,$height" \
    --screenshot="$work/report.png" "file://$work/report.html" >/dev/null 2>"$work/report.log" || true
if grep -q 'CONSOLE' "$work/report.log"; then
    echo "check-report: the page logged to the console:" >&2
    grep 'CONSOLE' "$work/report.log" >&2
    exit 1
fi
[ -s "$work/report.png" ] || { echo "check-report: no screenshot" >&2; cat "$work/report.log" >&2; exit 1; }

# 3. Every chart drawn: within each chart's box, enough pixels that are not the white background.
/usr/bin/python3 - "$work/report.png" "$work/boxes.txt" <<'EOF'
import struct, sys, zlib

def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unsupported PNG {header}"
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, bpp, rows

width, height, bpp, rows = read_png(sys.argv[1])
boxes = [l.split() for l in open(sys.argv[2]) if l.startswith("CHART ")]
expected = {"payments-histogram", "payer-net-cost", "investors-multiple", "investors-irr",
            "cumulative-cashflows", "trigger-probability"}
found = {b[1] for b in boxes}
failures = [f"chart '{c}' is missing" for c in sorted(expected - found)]
for _, name, x, y, w, h in boxes:
    x, y, w, h = int(x), int(y), int(w), int(h)
    if w <= 0 or h <= 0 or x + w > width or y + h > height:
        failures.append(f"chart '{name}' is outside the screenshot ({x},{y} {w}x{h})")
        continue
    # Axes, grid and labels are grey or black; data (bars, bands, lines) is in colour. A chart
    # with its axes but no data counts as blank.
    inked = coloured = 0
    for row in rows[y:y + h]:
        for px in range(x, x + w):
            r, g, b = row[px * bpp:px * bpp + 3]
            if min(r, g, b) < 235: inked += 1
            if max(r, g, b) - min(r, g, b) > 40: coloured += 1
    print(f"check-report: {name}: {w}x{h} px, {100 * inked / (w * h):.1f}% drawn, "
          f"{100 * coloured / (w * h):.1f}% in colour")
    if coloured < 0.005 * w * h:
        failures.append(f"chart '{name}' is blank: {inked} drawn pixels, {coloured} in colour")
for f in failures: print("check-report: " + f, file=sys.stderr)
sys.exit(1 if failures else 0)
EOF
if [ $# -ge 1 ]; then cp "$work/report.png" "$1"; fi
echo "check-report: the Peterborough report renders, every chart drawn, no console message"
