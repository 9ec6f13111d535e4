# The HTML report: a real run (runc) with a history of earlier runs made
# here (one much faster, so a regression must be marked; one where a now
# failing scenario passed), scenario text that needs escaping, XML
# well-formedness, and a headless Chromium screenshot that is not blank.
. tests/integration/lib.sh
H=$T/history; mkdir -p "$H"
for d in 2026-01-01T03:00:00Z 2026-01-02T03:00:00Z; do
cat > "$H/$d.json" <<JSON
{"scenarios":[{"name":"counter-basic","backend":"runc","status":"passed","checkpoint_ms":20.0,"restore_ms":20.0},
{"name":"esc","backend":"runc","status":"passed","checkpoint_ms":30.0,"restore_ms":30.0}],
"summary":{"passed":2,"failed":0},"host":"h","date":"$d"}
JSON
done
echo "not json" > "$H/2026-01-03T03:00:00Z.json"
cat > "$T/esc.yaml" <<'YAML'
scenario: esc
description: "a scenario whose failure reason carries markup: <script>alert(1)</script> & co"
criu: "/nonexistent/<script>alert(1)</script>&"
steps:
  - start
  - wait: 200
  - checkpoint
YAML
$CRH run --criu /usr/local/sbin/criu --criu-env CRIU_FAULT=130 --work-dir "$T/work" --history "$H" \
    --report html:"$T/r.html" --report json:"$T/r.json" counter-basic "$T/esc.yaml" > "$T/run.out" 2>&1
rc=$?
[ $rc = 1 ] && ok "html run: one pass, one failure, exit 1" || notok "html run exit" "exit $rc: $(tail -3 $T/run.out)"
check "html is well-formed XML (XHTML)" xmllint --noout "$T/r.html"
check "html has no raw markup from input" bash -c "! grep -q '<script>' $T/r.html"
check_grep "html escapes input" '&lt;script&gt;alert\(1\)&lt;/script&gt;&amp;' "$T/r.html"
check_grep "html: self-contained (no external resources)" '^<!DOCTYPE html>' "$T/r.html"
check "html: no external scripts, links or fonts" bash -c "! grep -Eq '<script|<link|src=\"http|url\\(' $T/r.html"
check_grep "html: charts are inline SVG" '<svg xmlns="http://www.w3.org/2000/svg"' "$T/r.html"
check_grep "html: where downtime goes, as stacked bars from CRIU's stats" 'Where downtime goes \(CRIU' "$T/r.html"
check "html: the downtime bars of counter-basic add up" python3 - "$T/r.html" "$T/r.json" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
s = [x for x in json.load(open(sys.argv[2]))["scenarios"] if x["name"] == "counter-basic"][0]
svg = html[html.index("Where downtime goes"):]
svg = svg[:svg.index("</svg>")]
segs = dict((k, float(v)) for k, v in re.findall(r"<title>([a-z +()]+) ([0-9.]+) ms</title>", svg))
st = s["criu_stats"]
assert abs(segs["freezing"] - st["dump"]["freezing_time_us"] / 1000) < 0.1, (segs, st)
assert abs(segs["memdump"] - st["dump"]["memdump_time_us"] / 1000) < 0.1, (segs, st)
assert abs(segs["restore forking"] - st["restore"]["forking_time_us"] / 1000) < 0.1, (segs, st)
dump = re.search(r">dump ([0-9.]+) ms<", svg).group(1)
assert abs(float(dump) - (st["dump"]["freezing_time_us"] + st["dump"]["frozen_time_us"]) / 1000) < 0.2, dump
rest = float(re.search(r">restore ([0-9.]+) ms<", svg).group(1))
assert rest >= st["restore"]["restore_time_us"] / 1000 - 0.2, (rest, st)
PY
check_grep "html: trend over the history" 'Checkpoint time over the last 3 runs' "$T/r.html"
check_grep "html: regression marked (time > 1.25x median)" 'regression:</b> checkpoint [0-9]+ ms is [0-9]+% above the median 20 ms' "$T/r.html"
check_grep "html: newly failing marked" 'regression:</b> newly failing \(passed on 2026-01-02T03:00:00Z\)' "$T/r.html"
check_grep "html: versions in the summary" 'criu 4\.1\.1, runc [0-9]' "$T/r.html"
check "history: this run's JSON kept under the date" bash -c "ls $H | grep -Eq '^20[0-9-]+T[0-9:]+Z\\.json\$' && [ \$(ls $H | wc -l) = 4 ]"

if command -v chromium >/dev/null; then
    timeout 120 chromium --headless --no-sandbox --disable-gpu --window-size=1200,1800 \
        --screenshot="$T/shot.png" "file://$T/r.html" > "$T/chromium.out" 2>&1
    check "chromium renders a screenshot" test -s "$T/shot.png"
    check "the screenshot is not blank" python3 - "$T/shot.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
dark = sum(1 for b in raw[::7] if b < 128)
assert dark > len(raw[::7]) // 200, f"only {dark} dark samples: blank page?"
PY
else
    notok "chromium renders a screenshot" "chromium is not installed (./mk installs it)"
fi
