"""
check_report_html.py: checks of the HTML backup report (scripts/report-html.sh)
for test/test_report_html.sh.  Python 3 standard library only.

Usage: check_report_html.py PAGE DOM PNG CSVDIR
  PAGE    the HTML file as written
  DOM     the page's DOM after Chromium rendered it (chromium --dump-dom)
  PNG     Chromium's screenshot of the page
  CSVDIR  the psql reports' output in CSV, with the same variables:
          calendar.csv (backup_calendar.sql, -v ascii=1), storage.csv,
          overdue.csv, failed.csv
Checks that the page references nothing outside itself (no src, srcset,
href other than a link in text, url() or @import, no script, link,
iframe, object, embed or img element), that the PNG is a real picture,
and that the rendered DOM shows the reports' clusters and figures: each
calendar row's days equal the ASCII calendar's line, each table equals the
report's rows, each storage bar's bytes equal the report's.  Prints one
line per failure and "report_html: N passed, M failed"; exits 1 on any
failure.
"""

import csv
import html.parser
import os
import re
import struct
import sys
import zlib

passed = 0
failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (what, detail), file=sys.stderr)


EXTERNAL = re.compile(r"^\s*(https?:|ftp:|//|file:)", re.I)
FORBIDDEN_TAGS = {"script", "link", "iframe", "object", "embed", "img",
                  "frame", "base", "audio", "video", "source", "use",
                  "image"}


class Page(html.parser.HTMLParser):
    """Collects what the checks need: external references, forbidden
    elements, calendar rows, bars and report tables (by caption)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.external = []
        self.forbidden = []
        self.cal_rows = []      # [project, cluster, kind, [state...], [title...]]
        self.bars = {}          # (project, month) -> bytes
        self.tables = {}        # caption -> [[cell, ...], ...]
        self.text = None        # collecting text of caption/th/td/title
        self.table = None
        self.caption = None
        self.row = None
        self.in_cal = False     # inside a calendar row (no nested <g>)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            if name in ("src", "srcset", "href", "xlink:href", "poster",
                        "data", "action", "formaction", "background"):
                if tag == "a" and name == "href":
                    continue    # a link in text is not fetched
                if EXTERNAL.search(value) or name == "srcset":
                    self.external.append("%s %s=%s" % (tag, name, value))
            if name == "style" and re.search(r"url\s*\(|@import", value, re.I):
                self.external.append("%s style=%s" % (tag, value))
        if tag in FORBIDDEN_TAGS:
            self.forbidden.append(tag)
        cls = a.get("class") or ""
        if tag == "g" and "cal-row" in cls.split():
            self.cal_rows.append([a.get("data-project"), a.get("data-cluster"),
                                  a.get("data-kind"), [], []])
            self.in_cal = True
        elif tag == "rect" and cls.startswith("d-") and self.in_cal:
            self.cal_rows[-1][3].append(cls[2:])
        elif tag == "rect" and cls == "bar":
            self.bars[(a.get("data-project"), a.get("data-month"))] = int(a.get("data-bytes"))
        elif tag == "table":
            self.table, self.caption = [], None
        elif tag == "tr" and self.table is not None:
            self.row = []
            self.table.append(self.row)
        if tag in ("caption", "th", "td", "title"):
            self.text = []

    def handle_endtag(self, tag):
        if tag in ("caption", "th", "td", "title") and self.text is not None:
            text = "".join(self.text).strip()
            self.text = None
            if tag == "caption":
                self.caption = text
            elif tag in ("th", "td") and self.row is not None:
                self.row.append(text)
            elif tag == "title" and self.in_cal:
                self.cal_rows[-1][4].append(text)
        elif tag == "g":
            self.in_cal = False
        elif tag == "table" and self.table is not None:
            self.tables[self.caption] = self.table
            self.table = None

    def handle_data(self, data):
        if self.text is not None:
            self.text.append(data)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.reader(f)]


def png_ok(path):
    """(width, height, distinct byte values of the pixel data) or None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def main():
    page_path, dom_path, png_path, csvdir = sys.argv[1:5]
    raw = open(page_path, encoding="utf-8").read()

    # nothing outside the page
    page = Page()
    page.feed(raw)
    check("no external reference", not page.external, repr(page.external))
    check("no script, link, img, iframe, object or embed", not page.forbidden,
          repr(page.forbidden))
    check("no url() or @import", not re.search(r"url\s*\(|@import", raw, re.I))

    # a real picture
    shot = png_ok(png_path) if os.path.exists(png_path) else None
    check("screenshot is a PNG", shot is not None)
    if shot:
        check("screenshot size", shot[0] >= 800 and shot[1] >= 600, repr(shot[:2]))
        check("screenshot is not blank", shot[2] > 16, "%d byte values" % shot[2])

    # the rendered DOM
    dom = Page()
    dom.feed(open(dom_path, encoding="utf-8").read())

    symbol = {"completed": "#", "failed": "x", "none": ".", "off": " "}
    cal = read_csv(os.path.join(csvdir, "calendar.csv"))
    want = {(r[0], r[1]): (r[2], r[3]) for r in cal[1:] if len(r) == 4}
    got = {(r[0], r[1]): (r[2], "".join(symbol.get(s, "?") for s in r[3]))
           for r in dom.cal_rows}
    check("calendar has clusters", len(want) > 0)
    check("calendar: the same clusters", sorted(got) == sorted(want),
          "%r != %r" % (sorted(got), sorted(want)))
    for key in sorted(want):
        check("calendar row %s/%s" % key, got.get(key) == want[key],
              "%r != %r" % (got.get(key), want[key]))
    for r in dom.cal_rows:
        check("calendar row %s: one tooltip a day" % r[1], len(r[4]) == len(r[3]))

    for name, caption_re in (("storage", r"^Snapshots and storage"),
                             ("overdue", r"^Clusters without a completed snapshot"),
                             ("failed", r"^Failed snapshots")):
        rows = read_csv(os.path.join(csvdir, name + ".csv"))
        tables = [t for c, t in dom.tables.items() if c and re.match(caption_re, c)]
        check("%s table present" % name, len(tables) == 1, repr(list(dom.tables)))
        if tables:
            check("%s table equals the psql report" % name, tables[0] == rows,
                  "\n  page: %r\n  psql: %r" % (tables[0], rows))
        if name == "storage":
            head = rows[0]
            want_bars = {(r[head.index("project")], r[head.index("month")]):
                         int(r[head.index("storage_bytes")] or 0)
                         if r[head.index("storage_bytes")] not in ("", "-") else 0
                         for r in rows[1:]}
            check("storage bars equal the report's bytes", dom.bars == want_bars,
                  "%r != %r" % (dom.bars, want_bars))

    print("report_html: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
