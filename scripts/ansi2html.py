#!/usr/bin/env python3
"""ANSI-coloured text (stdin) to a standalone HTML page (stdout).

Handles the SGR sequences `salvage page --color always` writes: reset (0),
bold (1), reversed (7), the 16 colours (30-37, 90-97, 40-47, 100-107),
defaults (39, 49) and xterm 256 colours (38;5;N, 48;5;N). Usage:

    salvage page IMG OFFSET --color always | scripts/ansi2html.py > page.html
"""

import html
import re
import sys

BASE16 = [
    "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
    "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
]
FG_DEFAULT = "#d4d4d4"
BG_DEFAULT = "#1e1e1e"


def xterm(n):
    """RGB of xterm 256-colour number n, as #rrggbb."""
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        levels = [0, 95, 135, 175, 215, 255]
        r, g, b = levels[n // 36], levels[n // 6 % 6], levels[n % 6]
        return "#%02x%02x%02x" % (r, g, b)
    v = 8 + 10 * (n - 232)
    return "#%02x%02x%02x" % (v, v, v)


class State:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = False
        self.rev = False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 7:
                self.rev = True
            elif 30 <= c <= 37:
                self.fg = BASE16[c - 30]
            elif 90 <= c <= 97:
                self.fg = BASE16[c - 90 + 8]
            elif c == 39:
                self.fg = None
            elif 40 <= c <= 47:
                self.bg = BASE16[c - 40]
            elif 100 <= c <= 107:
                self.bg = BASE16[c - 100 + 8]
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                if c == 38:
                    self.fg = xterm(codes[i + 2])
                else:
                    self.bg = xterm(codes[i + 2])
                i += 2
            i += 1

    def css(self):
        fg, bg = self.fg, self.bg
        if self.rev:
            fg, bg = (bg or BG_DEFAULT), (fg or FG_DEFAULT)
        parts = []
        if fg:
            parts.append("color:" + fg)
        if bg:
            parts.append("background:" + bg)
        if self.bold:
            parts.append("font-weight:bold")
        return ";".join(parts)


def convert(text):
    out = []
    st = State()
    pos = 0
    for m in re.finditer(r"\x1b\[([0-9;]*)m", text):
        chunk = text[pos:m.start()]
        if chunk:
            style = st.css()
            esc = html.escape(chunk)
            out.append('<span style="%s">%s</span>' % (style, esc) if style else esc)
        st.apply(m.group(1))
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def main():
    body = convert(sys.stdin.read())
    sys.stdout.write(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>salvage page</title>\n"
        "<style>body{background:%s;color:%s;margin:12px}"
        "pre{font:13px/1.25 'DejaVu Sans Mono',monospace}</style></head>\n"
        "<body><pre>%s</pre></body></html>\n" % (BG_DEFAULT, FG_DEFAULT, body)
    )


if __name__ == "__main__":
    main()
