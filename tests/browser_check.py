#!/usr/bin/python3
"""Renders hitdna's SVG plots and HTML reports in headless Chromium (Debian's chromium package),
takes screenshots and checks that they rendered: the PNG has the window's size, is neither blank
nor a wall of colour, shows the plot's series colours, and Chromium logged no console message
(the pages have no scripts, so any console line is an error such as a failed load).

usage: browser_check.py HITDNA_BIN WORKDIR"""
import math, os, shutil, struct, subprocess, sys, tempfile, wave, zlib
import xml.etree.ElementTree as ET

HITDNA, WORK = sys.argv[1], sys.argv[2]
os.makedirs(WORK, exist_ok=True)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def write_song(path, seconds, bpm, freq):
    rate = 22050
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(int(rate * seconds)):
            t = i / rate
            beat = (t * bpm / 60.0) % 1.0
            part = int(t // 8) % 2  # loud and quiet 8 s parts
            click = math.exp(-beat * 30) * math.sin(2 * math.pi * 60 * t) * 0.5
            pad = sum(math.sin(2 * math.pi * f * t) for f in (freq, freq * 1.26, freq * 1.5)) * (0.12 if part else 0.04)
            frames += struct.pack("<hh", int(max(-1, min(1, click + pad)) * 30000), int(max(-1, min(1, click * 0.8 + pad * 0.6)) * 30000))
        w.writeframes(bytes(frames))


def read_png(path):
    """Width, height and RGBA rows of an 8-bit RGB/RGBA PNG (what Chromium writes)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
            bpp = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def chromium(args, page):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=WORK)
    cmd = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--user-data-dir=" + profile,
           "--enable-logging=stderr", "--v=0"] + args + ["file://" + os.path.abspath(page)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    shutil.rmtree(profile, ignore_errors=True)
    return r


def console_lines(stderr):
    return [l for l in stderr.splitlines() if ":CONSOLE" in l]


def dom_errors(page):
    """What the browser made of the page: a <parsererror> when the SVG/XML is not well-formed."""
    r = chromium(["--dump-dom"], page)
    return "parsererror" in r.stdout or "This page contains the following errors" in r.stdout, r.stdout


def screenshot(page, width, height, name):
    png = os.path.join(WORK, name + ".png")
    if os.path.exists(png):
        os.remove(png)
    r = chromium(["--window-size=%d,%d" % (width, height), "--screenshot=" + png], page)
    console = console_lines(r.stderr)
    check(r.returncode == 0 and os.path.exists(png), "%s: chromium wrote a screenshot (exit %d)" % (name, r.returncode))
    check(not console, "%s: no console messages %s" % (name, console[:3]))
    return png


def inspect(png, width, height, name, colours, drawing=None):
    """drawing: (w, h) of an SVG shown at the top left: its ink must fill that box and stay in it."""
    w, h, bpp, rows = read_png(png)
    check((w, h) == (width, height), "%s: screenshot is %dx%d (window %dx%d)" % (name, w, h, width, height))
    x0, y0, x1, y1 = w, h, -1, -1
    total = nonwhite = 0
    seen = set()
    found = {c: 0 for c in colours}
    for y in range(0, h, 2):
        row = rows[y]
        for x in range(0, w, 2):
            px = row[x * bpp:x * bpp + 3]
            total += 1
            if px[0] < 245 or px[1] < 245 or px[2] < 245:
                nonwhite += 1
                x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
            seen.add(bytes(px))
            for c in colours:
                if abs(px[0] - c[0]) + abs(px[1] - c[1]) + abs(px[2] - c[2]) < 12:
                    found[c] += 1
    share = nonwhite / max(1, total)
    check(0.02 < share < 0.8, "%s: %.1f %% of the pixels are not white (blank or a wall of colour otherwise)" % (name, 100 * share))
    check(len(seen) >= 16, "%s: %d distinct colours" % (name, len(seen)))
    if drawing:
        dw, dh = drawing
        check(x1 <= dw + 2 and y1 <= dh + 2 and x1 - x0 >= 0.8 * dw and y1 - y0 >= 0.8 * dh,
              "%s: the drawing fills its %dx%d box (ink from %d,%d to %d,%d)" % (name, dw, dh, x0, y0, x1, y1))
    for c, n in found.items():
        check(n >= 10, "%s: the series colour #%02x%02x%02x is drawn (%d samples)" % (name, c[0], c[1], c[2], n))


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    print("browser_check: chromium is not installed (scripts/install-deps.sh --test installs it)")
    sys.exit(1)

env = dict(os.environ, HITDNA_DB=os.path.join(WORK, "none.db"))
a, b = os.path.join(WORK, "a.wav"), os.path.join(WORK, "b.wav")
write_song(a, 40, 120, 220)
write_song(b, 28, 96, 196)


def hitdna(*args):
    r = subprocess.run([HITDNA] + list(args), capture_output=True, text=True, env=env, timeout=300)
    check(r.returncode == 0, "hitdna %s (exit %d: %s)" % (" ".join(os.path.basename(x) for x in args), r.returncode, r.stderr.strip()[-200:]))
    return r


# The detectors must see what they look for: a page that logs to the console and an SVG that is
# not well-formed.
with open(os.path.join(WORK, "control-console.html"), "w") as f:
    f.write("<!DOCTYPE html><html><body><p>x</p><script>console.error('control')</script></body></html>")
with open(os.path.join(WORK, "control-broken.svg"), "w") as f:
    f.write('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>a & b</text></svg>')
check(bool(console_lines(chromium(["--screenshot=" + os.path.join(WORK, "control.png")], os.path.join(WORK, "control-console.html")).stderr)),
      "control: a console message is detected")
check(dom_errors(os.path.join(WORK, "control-broken.svg"))[0], "control: a malformed SVG is detected")

BLUE, RED = (0x1f, 0x77, 0xb4), (0xd6, 0x27, 0x28)
hitdna("plot", a, "-o", os.path.join(WORK, "one.svg"))
hitdna("plot", a, b, "--compare", "--normalize", "-o", os.path.join(WORK, "compare.svg"))
with open(os.path.join(WORK, "target.json"), "w") as f:
    f.write(hitdna("enrich", "dark 120 bpm track with a big hook", "--duration", "40", "-f", "json").stdout)
hitdna("generate", "--target", os.path.join(WORK, "target.json"), "-o", os.path.join(WORK, "gen.wav"), "--validate", "--max-attempts", "2", "--min-score", "0.5",
       "--record", os.path.join(WORK, "gen.json"), "--no-record")
hitdna("report", a, "-o", os.path.join(WORK, "report.html"))
hitdna("report", os.path.join(WORK, "gen.json"), "-o", os.path.join(WORK, "generation.html"))

for name, page, size, colours in [("one", "one.svg", (1100, 1100), [BLUE]), ("compare", "compare.svg", (1100, 1100), [BLUE, RED]),
                                  ("report", "report.html", (1100, 2000), [BLUE]), ("generation", "generation.html", (1100, 2000), [BLUE, RED])]:
    page = os.path.join(WORK, page)
    if not os.path.exists(page):
        check(False, name + ": page missing")
        continue
    drawing = None
    if page.endswith(".svg"):
        try:
            root = ET.parse(page).getroot()
            drawing = (int(float(root.get("width"))), int(float(root.get("height"))))
            check(root.tag == "{http://www.w3.org/2000/svg}svg", name + ": well-formed SVG (XML parser)")
        except ET.ParseError as e:
            check(False, "%s: well-formed SVG (XML parser: %s)" % (name, e))
    bad, dom = dom_errors(page)
    check(not bad and ("<svg" in dom or "<table" in dom), name + ": the browser built the document without parse errors")
    png = screenshot(page, size[0], size[1], name)
    if os.path.exists(png):
        inspect(png, size[0], size[1], name, colours, drawing if drawing and drawing[1] <= size[1] else None)
html = open(os.path.join(WORK, "generation.html")).read().replace('xmlns="http://www.w3.org/2000/svg"', "")
check("Attempts" in html and "<script" not in html and "http://" not in html and "https://" not in html,
      "generation report: attempts listed, no scripts, no network references")
print("browser_check: %d failures" % len(failures))
sys.exit(1 if failures else 0)
