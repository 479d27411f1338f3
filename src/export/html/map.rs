//! The disk map of `report.html` and the list of damaged pages, both from
//! ONE pass over the page store ([`Survey::of`]).
//!
//! The image is cut into at most [`MAX_CELLS`] cells of a power-of-two
//! size (so a 256 MiB and a 1 TiB image both give a grid of a few thousand
//! cells). Each page adds its bytes to the cells it covers, by kind: a
//! recovered table's good leaf pages (one hue per table; a border when they
//! were repaired or reassembled), damaged, and of the other pages repaired,
//! reassembled (or redone) and the rest (system, undo, inode, …); and no
//! page found.
//! A cell shows its dominant kind, by bytes weighed by interest: damaged
//! and repaired bytes [`RARE_WEIGHT`] times, a table's [`TABLE_WEIGHT`]
//! times those of other pages, so one damaged page stands out among a few
//! good ones and a table's small page among system pages. Pages above the image (read through a file's block map or
//! made by the redo log) are not on the map; the legend counts them.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::summary::display_names;
use super::{bytes_text, esc, num, plural};
use crate::carve::store::PageStore;
use crate::carve::{PageRecord, Status};
use crate::recover::Recovery;

/// Most cells in the grid.
pub const MAX_CELLS: u64 = 4096;
/// Cells per row of the grid.
const COLS: u64 = 64;
/// Smallest cell.
const MIN_CELL: u64 = 4096;
/// Pixels per cell (a cell is one pixel less, leaving a gap).
const PITCH: u64 = 16;
/// Damaged pages listed; the rest are counted.
pub const LIST_CAP: usize = 2000;
/// Damaged pages shown without `<details>`.
const OPEN_LIST: usize = 20;
/// Tables with their own hue, by bytes on the map; the rest share one.
const HUES: usize = 40;
/// Weight of damaged and repaired bytes when choosing a cell's colour.
const RARE_WEIGHT: u64 = 4;
/// Weight of a table's leaf page bytes (other pages weigh 1).
const TABLE_WEIGHT: u64 = 2;

/// The fixed kinds of page (tables come after them).
const DAMAGED: usize = 0;
const REPAIRED: usize = 1;
const REASSEMBLED: usize = 2;
const OTHER: usize = 3;
const FIXED: usize = 4;

const FIXED_NAMES: [&str; FIXED] = [
    "damaged",
    "repaired",
    "reassembled or redone",
    "other InnoDB pages",
];
const FIXED_CLASS: [&str; FIXED] = ["kd", "kr", "ka", "ko"];
const FIXED_COLOUR: [&str; FIXED] = ["#e53935", "#fb8c00", "#ba68c8", "#9e9e9e"];
/// Border of a table's cell whose pages were mostly reassembled.
const REASSEMBLED_BORDER: &str = "#6a1b9a";
const EMPTY_COLOUR: &str = "#eceff1";

/// What one cell holds.
#[derive(Debug, Default, Clone)]
struct Cell {
    bytes: [u64; FIXED],
    pages: [u32; FIXED],
    /// (table index, bytes, pages starting here).
    tables: Vec<(u32, u64, u32)>,
    /// Of the tables' bytes and pages, those repaired or reassembled (by
    /// fixed kind).
    marked_bytes: [u64; FIXED],
    marked_pages: [u32; FIXED],
}

/// What the one pass over the pages found.
pub struct Survey<'a> {
    image_size: u64,
    cell: u64,
    cells: Vec<Cell>,
    /// Pages on the map per fixed kind, and per table.
    kind_pages: [u64; FIXED],
    /// Tables' pages on the map repaired or reassembled (by fixed kind).
    marked_pages: [u64; FIXED],
    table_pages: Vec<u64>,
    table_bytes: Vec<u64>,
    /// Pages above the image (file block maps, redo).
    pub beyond: u64,
    /// Damaged copies (the first [`LIST_CAP`]) and how many in all.
    pub damaged: Vec<&'a PageRecord>,
    pub damaged_total: u64,
    /// Table index of each damaged copy's index, when a table's.
    damaged_table: Vec<Option<u32>>,
}

/// The cell size for an image: a power of two, at least [`MIN_CELL`], so
/// that there are at most [`MAX_CELLS`] cells.
pub fn cell_size(image_size: u64) -> u64 {
    image_size
        .div_ceil(MAX_CELLS)
        .max(MIN_CELL)
        .checked_next_power_of_two()
        .unwrap_or(1 << 63)
}

impl<'a> Survey<'a> {
    /// One pass over `store.pages`.
    pub fn of(store: &'a PageStore, rec: &Recovery, image_size: u64) -> Survey<'a> {
        let cell = cell_size(image_size);
        let n_cells = image_size.div_ceil(cell) as usize;
        let by_index: HashMap<(u32, u64), u32> = rec
            .tables
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some(((t.space_id?, t.index_id?), i as u32)))
            .collect();
        let mut s = Survey {
            image_size,
            cell,
            cells: vec![Cell::default(); n_cells],
            kind_pages: [0; FIXED],
            marked_pages: [0; FIXED],
            table_pages: vec![0; rec.tables.len()],
            table_bytes: vec![0; rec.tables.len()],
            beyond: 0,
            damaged: Vec::new(),
            damaged_total: 0,
            damaged_table: Vec::new(),
        };
        // Consecutive pages are mostly of one index: remember the last look-up.
        let mut last: Option<((u32, u64), Option<u32>)> = None;
        let mut table_of = |p: &PageRecord| -> Option<u32> {
            if p.index_id == 0 {
                return None;
            }
            let key = (p.space_id, p.index_id);
            match last {
                Some((k, t)) if k == key => t,
                _ => {
                    let t = by_index.get(&key).copied();
                    last = Some((key, t));
                    t
                }
            }
        };
        for p in &store.pages {
            // A table's good leaf page is the table's, marked when it was
            // repaired or reassembled; any other page is of its kind.
            let (kind, mark) = match p.status {
                Status::Damaged => (Err(DAMAGED), None),
                st => {
                    let fixed = match st {
                        Status::Repaired => REPAIRED,
                        Status::Reassembled | Status::Redone => REASSEMBLED,
                        _ => OTHER,
                    };
                    match (p.level == 0).then(|| table_of(p)).flatten() {
                        Some(t) => (Ok(t), (fixed != OTHER).then_some(fixed)),
                        None => (Err(fixed), None),
                    }
                }
            };
            if p.status == Status::Damaged {
                s.damaged_total += 1;
                if s.damaged.len() < LIST_CAP {
                    s.damaged.push(p);
                    s.damaged_table.push(table_of(p));
                }
            }
            if p.offset >= image_size {
                s.beyond += 1;
                continue;
            }
            let end = p
                .offset
                .saturating_add(p.phys_size.max(1) as u64)
                .min(image_size);
            match kind {
                Ok(t) => {
                    s.table_pages[t as usize] += 1;
                    s.table_bytes[t as usize] += end - p.offset;
                }
                Err(k) => s.kind_pages[k] += 1,
            }
            if let Some(m) = mark {
                s.marked_pages[m] += 1;
            }
            let mut at = p.offset;
            let mut first = true;
            while at < end {
                let ci = (at / cell) as usize;
                let cell_end = ((ci as u64 + 1) * cell).min(end);
                let len = cell_end - at;
                let c = &mut s.cells[ci];
                let starts = first as u32;
                match kind {
                    Ok(t) => match c.tables.iter_mut().find(|e| e.0 == t) {
                        Some(e) => {
                            e.1 += len;
                            e.2 += starts;
                        }
                        None => c.tables.push((t, len, starts)),
                    },
                    Err(k) => {
                        c.bytes[k] += len;
                        c.pages[k] += starts;
                    }
                }
                if let Some(m) = mark {
                    c.marked_bytes[m] += len;
                    c.marked_pages[m] += starts;
                }
                first = false;
                at = cell_end;
            }
        }
        s
    }

    /// The colour class of each table: its own hue for the [`HUES`] tables
    /// with the most bytes on the map, a shared one for the rest.
    fn table_classes(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.table_bytes.len())
            .filter(|&i| self.table_bytes[i] > 0)
            .collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(self.table_bytes[i]), i));
        let mut class = vec![HUES; self.table_bytes.len()];
        for (rank, &i) in order.iter().enumerate().take(HUES) {
            class[i] = rank;
        }
        class
    }

    /// The SVG grid and its legend.
    pub fn render_map(&self, h: &mut String, rec: &Recovery) {
        let names = display_names(rec);
        let class = self.table_classes();
        let _ = writeln!(
            h,
            "<p class=\"sub\">{} image in {} cells of {} each (hover a cell for its offsets \
             and contents).</p>",
            bytes_text(self.image_size),
            num(self.cells.len() as u64),
            bytes_text(self.cell)
        );
        // Legend.
        h.push_str("<div class=\"legend\">");
        let mut shared = (0u64, 0usize);
        let mut ranked: Vec<usize> = (0..rec.tables.len())
            .filter(|&i| self.table_pages[i] > 0)
            .collect();
        ranked.sort_by_key(|&i| class[i]);
        for i in ranked {
            if class[i] >= HUES {
                shared.0 += self.table_pages[i];
                shared.1 += 1;
                continue;
            }
            let _ = write!(
                h,
                "<span><span class=\"sw\" style=\"background:{}\"></span>{} ({})</span>",
                hue(class[i]),
                esc(&names[i]),
                plural(self.table_pages[i], "page", "pages")
            );
        }
        if shared.1 > 0 {
            let _ = write!(
                h,
                "<span><span class=\"sw\" style=\"background:{}\"></span>{} more tables ({})</span>",
                hue(HUES),
                num(shared.1 as u64),
                plural(shared.0, "page", "pages")
            );
        }
        for (((colour, name), &n), &m) in FIXED_COLOUR
            .iter()
            .zip(FIXED_NAMES)
            .zip(&self.kind_pages)
            .zip(&self.marked_pages)
        {
            let _ = write!(
                h,
                "<span><span class=\"sw\" style=\"background:{colour}\"></span>{name} ({})</span>",
                plural(n + m, "page", "pages")
            );
        }
        let _ = write!(
            h,
            "<span><span class=\"sw\" style=\"background:{EMPTY_COLOUR}\"></span>no page found</span>"
        );
        h.push_str("</div>\n");
        let _ = writeln!(
            h,
            "<p class=\"sub\">Table colours are the good leaf pages of each recovered table; \
             with an orange border when one was repaired, purple when most were reassembled. \
             A cell shows what covers most of it (damaged and repaired bytes count {RARE_WEIGHT} \
             times, a table&#39;s {TABLE_WEIGHT} times); a paler cell is less than half covered by pages.{}</p>",
            if self.beyond > 0 {
                format!(
                    " Not on the map: {} read through files&#39; block maps or made by the \
                     redo log.",
                    plural(self.beyond, "page", "pages")
                )
            } else {
                String::new()
            }
        );
        // The grid.
        let rows = (self.cells.len() as u64).div_ceil(COLS).max(1);
        let (w, ht) = (COLS * PITCH, rows * PITCH);
        let _ = write!(
            h,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{ht}\" \
             viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"map of the disk\">\n<style>"
        );
        for (cls, colour) in FIXED_CLASS.iter().zip(FIXED_COLOUR) {
            let _ = write!(h, ".{cls}{{fill:{colour}}}");
        }
        let _ = write!(
            h,
            ".ke{{fill:{EMPTY_COLOUR}}}.p{{fill-opacity:.45}}\
             .xr{{stroke:{};stroke-width:2}}.xa{{stroke:{};stroke-width:2}}",
            FIXED_COLOUR[REPAIRED], REASSEMBLED_BORDER
        );
        let used: std::collections::BTreeSet<usize> = class
            .iter()
            .zip(&self.table_bytes)
            .filter(|(_, &b)| b > 0)
            .map(|(&c, _)| c)
            .collect();
        for c in used {
            let _ = write!(h, ".t{c}{{fill:{}}}", hue(c));
        }
        h.push_str("</style>\n");
        let mut i = 0usize;
        while i < self.cells.len() {
            let c = &self.cells[i];
            let (x, y) = ((i as u64 % COLS) * PITCH, (i as u64 / COLS) * PITCH);
            let start = i as u64 * self.cell;
            if is_empty(c) {
                // A run of empty cells in one row is one rect.
                let mut j = i + 1;
                while j < self.cells.len()
                    && !(j as u64).is_multiple_of(COLS)
                    && is_empty(&self.cells[j])
                {
                    j += 1;
                }
                let end = (j as u64 * self.cell).min(self.image_size);
                let _ = writeln!(
                    h,
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" class=\"ke\">\
                     <title>{}: no page found</title></rect>",
                    (j - i) as u64 * PITCH - 1,
                    PITCH - 1,
                    range_text(start, end)
                );
                i = j;
                continue;
            }
            let end = ((i as u64 + 1) * self.cell).min(self.image_size);
            let (cls, covered) = self.dominant(c, &class, end - start);
            // A table's cell with repaired or (mostly) reassembled pages
            // gets a border of that kind's colour, drawn inside the cell.
            let table_bytes: u64 = c.tables.iter().map(|e| e.1).sum();
            let mark = if !cls.starts_with('t') {
                ""
            } else if c.marked_bytes[REPAIRED] > 0 {
                " xr"
            } else if c.marked_bytes[REASSEMBLED].saturating_mul(2) >= table_bytes {
                " xa"
            } else {
                ""
            };
            let (x, y, side) = if mark.is_empty() {
                (x, y, PITCH - 1)
            } else {
                (x + 1, y + 1, PITCH - 3)
            };
            let _ = writeln!(
                h,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{side}\" height=\"{side}\" class=\"{cls}{mark}{}\">\
                 <title>{}: {}</title></rect>",
                if covered { "" } else { " p" },
                range_text(start, end),
                self.contents(c, &names, end - start)
            );
            i += 1;
        }
        h.push_str("</svg>\n");
    }

    /// The class of a cell's dominant kind, and whether pages cover at
    /// least half of it.
    fn dominant(&self, c: &Cell, class: &[usize], len: u64) -> (String, bool) {
        let mut best = (0u64, String::new());
        for (k, (&b, cls)) in c.bytes.iter().zip(FIXED_CLASS).enumerate() {
            let w = if k == DAMAGED || k == REPAIRED {
                b.saturating_mul(RARE_WEIGHT)
            } else {
                b
            };
            if w > best.0 {
                best = (w, cls.to_string());
            }
        }
        for &(t, b, _) in &c.tables {
            let w = b.saturating_mul(TABLE_WEIGHT);
            if w > best.0 {
                best = (w, format!("t{}", class[t as usize]));
            }
        }
        let total: u64 = c.bytes.iter().sum::<u64>() + c.tables.iter().map(|e| e.1).sum::<u64>();
        (best.1, total.saturating_mul(2) >= len)
    }

    /// A cell's contents in words, largest first:
    /// `users 3 pages; damaged 1 page; no page 25 %`.
    fn contents(&self, c: &Cell, names: &[String], len: u64) -> String {
        let mut parts: Vec<(u64, String)> = Vec::new();
        for &(t, b, n) in &c.tables {
            parts.push((b, format!("{} {}", esc(&names[t as usize]), pages_text(n))));
        }
        for (k, name) in FIXED_NAMES.iter().enumerate() {
            if c.bytes[k] > 0 {
                parts.push((c.bytes[k], format!("{name} {}", pages_text(c.pages[k]))));
            }
        }
        parts.sort_by_key(|p| std::cmp::Reverse(p.0));
        for (k, what) in [(REPAIRED, "repaired"), (REASSEMBLED, "reassembled")] {
            if c.marked_pages[k] > 0 {
                parts.push((
                    0,
                    format!(
                        "{what}: {}",
                        plural(c.marked_pages[k] as u64, "table page", "table pages")
                    ),
                ));
            }
        }
        let total: u64 = parts.iter().map(|p| p.0).sum();
        let more = parts.len().saturating_sub(6);
        let mut s: Vec<String> = parts.into_iter().take(6).map(|p| p.1).collect();
        if more > 0 {
            s.push(format!("{more} more kinds"));
        }
        if total < len {
            s.push(format!(
                "no page {:.0} %",
                100.0 * (len - total) as f64 / len as f64
            ));
        }
        s.join("; ")
    }

    /// The list of damaged pages, in `<details>` when long.
    pub fn render_damage(&self, h: &mut String, rec: &Recovery) {
        if self.damaged_total == 0 {
            h.push_str("<p>No damaged page found.</p>\n");
            return;
        }
        let names = display_names(rec);
        let _ = writeln!(
            h,
            "<p>{} found that fail their checksum or whose header and trailer disagree. \
             Their records are never written as live rows.</p>",
            plural(self.damaged_total, "page copy", "page copies")
        );
        let long = self.damaged.len() > OPEN_LIST;
        if long {
            let _ = writeln!(
                h,
                "<details><summary>show all {} listed</summary>",
                num(self.damaged.len() as u64)
            );
        }
        h.push_str(
            "<table>\n<tr><th>offset</th><th>space</th><th>page</th>\
             <th class=\"n\">table</th><th class=\"n\">reason</th></tr>\n",
        );
        for (p, t) in self.damaged.iter().zip(&self.damaged_table) {
            let table = t.map(|t| esc(&names[t as usize])).unwrap_or_default();
            let place = if p.offset >= self.image_size {
                " (in a file read through its block map, or redo)"
            } else {
                ""
            };
            let _ = writeln!(
                h,
                "<tr><td class=\"o\">0x{:x}</td><td>{}</td><td>{}</td><td class=\"n\">{table}</td>\
                 <td class=\"r\">{}{place}</td></tr>",
                p.offset,
                p.space_id,
                p.page_no,
                esc(&p.reason_text().unwrap_or_else(|| "damaged".to_string()))
            );
        }
        h.push_str("</table>\n");
        if self.damaged_total > self.damaged.len() as u64 {
            let _ = writeln!(
                h,
                "<p>and {} more</p>",
                num(self.damaged_total - self.damaged.len() as u64)
            );
        }
        if long {
            h.push_str("</details>\n");
        }
    }
}

fn is_empty(c: &Cell) -> bool {
    c.tables.is_empty() && c.bytes.iter().all(|&b| b == 0)
}

/// `1 page` / `3 pages`, or `part of a page` for a cell a page only
/// continues into.
fn pages_text(n: u32) -> String {
    if n == 0 {
        "part of a page".to_string()
    } else {
        plural(n as u64, "page", "pages")
    }
}

/// `0x100000–0x110000 (1 MiB–1.1 MiB)`.
fn range_text(start: u64, end: u64) -> String {
    format!(
        "0x{start:x}\u{2013}0x{end:x} ({}\u{2013}{})",
        bytes_text(start),
        bytes_text(end)
    )
}

/// The colour of table class `i`: hues from green through blue (away from
/// the red, orange and purple of damage), alternating lightness; class
/// [`HUES`] (the tables without their own hue) is a dark slate.
fn hue(i: usize) -> String {
    if i >= HUES {
        return "#455a64".to_string();
    }
    let h = 80.0 + ((i as f64 * 0.618_034) % 1.0) * 160.0;
    let l = [42, 58, 34][i % 3];
    format!("hsl({h:.0},60%,{l}%)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_stay_few_whatever_the_size() {
        assert_eq!(cell_size(24 << 20), 8192);
        assert_eq!(cell_size(256 << 20), 64 << 10);
        assert_eq!(cell_size(1 << 40), 256 << 20);
        assert_eq!(cell_size(100), MIN_CELL);
        for size in [1u64, 4095, 1 << 30, (1 << 40) + 1, u64::MAX / 2] {
            assert!(size.div_ceil(cell_size(size)) <= MAX_CELLS, "{size}");
        }
    }
}
