//! The hex dump, in hexyl's style: a bordered table of an offset column,
//! 16 bytes per line in two groups of 8 and a character panel. Bytes are
//! coloured by hexyl's byte classes (NULL bright black, printable ASCII
//! cyan, ASCII whitespace and other ASCII green, non-ASCII yellow) and
//! shown as hexyl shows them (`⋄` NULL, `_` whitespace, `•` other ASCII,
//! `×` non-ASCII). Each region of the page gets a background shade and its
//! name at the right margin of the line where it starts. Runs of lines
//! identical to the one before (same bytes, same regions, no name) are
//! squeezed to one `*` line.

use std::fmt::Write as _;

use owo_colors::{AnsiColors, Style, XtermColors};

use super::regions::{Kind, Region};

/// How a piece of text looks: foreground, background (xterm 256-colour
/// number), reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Look {
    pub fg: Option<AnsiColors>,
    pub bg: Option<u8>,
    pub rev: bool,
}

impl Look {
    pub fn fg(c: AnsiColors) -> Look {
        Look {
            fg: Some(c),
            ..Look::default()
        }
    }
}

/// Output text with looks. Escape sequences (from owo-colors' styles) are
/// written only where the look changes, and only for what changes, so a
/// coloured page stays a few times the size of a plain one.
pub struct Painter {
    pub color: bool,
    out: String,
    cur: Look,
}

impl Painter {
    pub fn new(color: bool) -> Painter {
        Painter {
            color,
            out: String::new(),
            cur: Look::default(),
        }
    }

    /// Appends `text` looking like `look` (ignored without colour).
    pub fn put(&mut self, text: &str, look: Look) {
        if self.color && look != self.cur {
            self.switch(look);
        }
        self.out.push_str(text);
    }

    /// Appends text with no colour.
    pub fn plain(&mut self, text: &str) {
        self.put(text, Look::default());
    }

    fn switch(&mut self, to: Look) {
        let old = self.cur;
        self.cur = to;
        // Something to take away: reset, then set all of `to`.
        if (old.fg.is_some() && to.fg.is_none())
            || (old.bg.is_some() && to.bg.is_none())
            || (old.rev && !to.rev)
        {
            self.out.push_str("\x1b[0m");
            self.set(Look::default(), to);
        } else {
            self.set(old, to);
        }
    }

    /// Writes what differs from `old` to `to` (only additions and changes).
    fn set(&mut self, old: Look, to: Look) {
        let mut st = Style::new();
        if to.fg != old.fg {
            if let Some(c) = to.fg {
                st = st.color(c);
            }
        }
        if to.bg != old.bg {
            if let Some(c) = to.bg {
                st = st.on_color(XtermColors::from(c));
            }
        }
        if to.rev && !old.rev {
            st = st.reversed();
        }
        if !st.is_plain() {
            let _ = write!(self.out, "{}", st.prefix_formatter());
        }
    }

    pub fn finish(mut self) -> String {
        if self.color {
            self.switch(Look::default());
        }
        self.out
    }
}

/// hexyl's byte classes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Null,
    Printable,
    Whitespace,
    Other,
    NonAscii,
}

fn class(b: u8) -> Class {
    if b == 0 {
        Class::Null
    } else if b.is_ascii_graphic() {
        Class::Printable
    } else if b.is_ascii_whitespace() {
        Class::Whitespace
    } else if b.is_ascii() {
        Class::Other
    } else {
        Class::NonAscii
    }
}

fn fg(b: u8) -> AnsiColors {
    match class(b) {
        Class::Null => AnsiColors::BrightBlack,
        Class::Printable => AnsiColors::Cyan,
        Class::Whitespace | Class::Other => AnsiColors::Green,
        Class::NonAscii => AnsiColors::Yellow,
    }
}

fn glyph(b: u8) -> char {
    match class(b) {
        Class::Null => '⋄',
        Class::Printable => b as char,
        Class::Whitespace if b == b' ' => ' ',
        Class::Whitespace => '_',
        Class::Other => '•',
        Class::NonAscii => '×',
    }
}

/// The background shade (xterm 256-colour number) of a region kind.
pub fn shade(k: Kind) -> u8 {
    match k {
        Kind::Fil => 18,
        Kind::PageHeader => 22,
        Kind::Fseg => 58,
        Kind::System => 53,
        Kind::RecHeader { free: true, .. } => 88,
        Kind::RecFields { free: true, alt } => {
            if alt {
                237
            } else {
                236
            }
        }
        Kind::RecHeader { alt, .. } => {
            if alt {
                24
            } else {
                23
            }
        }
        Kind::RecFields { alt, .. } => {
            if alt {
                238
            } else {
                235
            }
        }
        Kind::FreeSpace => 233,
        Kind::Directory => 54,
        Kind::Body => 234,
        Kind::FspHeader => 22,
        Kind::Xdes { alt } => {
            if alt {
                237
            } else {
                235
            }
        }
    }
}

fn bg_look(region: Option<&Region>) -> Look {
    Look {
        bg: region.map(|r| shade(r.kind)),
        ..Look::default()
    }
}

const TOP: &str =
    "┌────────┬─────────────────────────┬─────────────────────────┬────────┬────────┐";
const BOTTOM: &str =
    "└────────┴─────────────────────────┴─────────────────────────┴────────┴────────┘";

/// A byte to point out (a repaired byte): shown reversed, and named at the
/// right margin.
pub struct Mark {
    pub at: usize,
    pub note: String,
}

/// Dumps `page` with `regions` (sorted, disjoint) and `marks`.
pub fn dump(p: &mut Painter, page: &[u8], regions: &[Region], marks: &[Mark]) {
    // Region index of each byte.
    let mut at: Vec<Option<u32>> = vec![None; page.len()];
    for (i, r) in regions.iter().enumerate() {
        for x in at.iter_mut().take(r.end.min(page.len())).skip(r.start) {
            *x = Some(i as u32);
        }
    }
    // Byte `b` at `i`: its class's colour on its region's shade, reversed
    // when marked.
    let byte_look = |i: usize, b: u8| Look {
        fg: Some(fg(b)),
        rev: marks.iter().any(|m| m.at == i),
        ..bg_look(at[i].map(|x| &regions[x as usize]))
    };
    let offset_style = Look::fg(AnsiColors::BrightBlack);
    p.plain(TOP);
    p.plain("\n");
    let lines = page.len().div_ceil(16);
    let mut squeezing = false;
    for l in 0..lines {
        let s = l * 16;
        let e = (s + 16).min(page.len());
        let labels: Vec<&Region> = regions
            .iter()
            .filter(|r| r.start >= s && r.start < e && !r.name.is_empty())
            .collect();
        let same_as_before = l > 0
            && labels.is_empty()
            && e - s == 16
            && page[s..e] == page[s - 16..s]
            && !marks.iter().any(|m| (s - 16..e).contains(&m.at));
        if same_as_before {
            if !squeezing {
                squeezing = true;
                p.plain("│");
                p.put("*", offset_style);
                p.plain("       │                         ┊                         │        ┊        │\n");
            }
            continue;
        }
        squeezing = false;
        p.plain("│");
        p.put(&format!("{s:08x}"), offset_style);
        p.plain("│");
        for g in 0..2 {
            for k in 0..8 {
                let i = s + g * 8 + k;
                let Some(&b) = page.get(i) else {
                    p.plain("   ");
                    continue;
                };
                // The space before a byte is shaded when the byte before
                // it in the group is of the same region.
                let joined = k > 0 && at[i - 1] == at[i];
                p.put(
                    " ",
                    if joined {
                        bg_look(at[i].map(|x| &regions[x as usize]))
                    } else {
                        Look::default()
                    },
                );
                p.put(&format!("{b:02x}"), byte_look(i, b));
            }
            p.plain(if g == 0 { " ┊" } else { " │" });
        }
        for g in 0..2 {
            for k in 0..8 {
                let i = s + g * 8 + k;
                let Some(&b) = page.get(i) else {
                    p.plain(" ");
                    continue;
                };
                let st = byte_look(i, b);
                p.put(glyph(b).encode_utf8(&mut [0; 4]), st);
            }
            p.plain(if g == 0 { "┊" } else { "│" });
        }
        let mut j = 0;
        while j < labels.len() {
            let r = labels[j];
            p.plain(if j == 0 { " " } else { ", " });
            // "record 3 (header)" and "record 3 (fields)" on one line: one label.
            let pair = labels.get(j + 1).and_then(|n| {
                let a = r.name.strip_suffix(" (header)")?;
                (n.name.strip_suffix(" (fields)")? == a).then_some(a)
            });
            match pair {
                Some(a) => {
                    p.put(&format!("◀ {a} (header, fields)"), bg_look(Some(r)));
                    j += 2;
                }
                None => {
                    p.put(&format!("◀ {}", r.name), bg_look(Some(r)));
                    j += 1;
                }
            }
        }
        for m in marks.iter().filter(|m| (s..e).contains(&m.at)) {
            p.plain(if j == 0 { " " } else { ", " });
            p.put(
                &format!("◀ {}", m.note),
                Look {
                    rev: true,
                    ..Look::default()
                },
            );
            j += 1;
        }
        p.plain("\n");
    }
    p.plain(BOTTOM);
    p.plain("\n");
}
