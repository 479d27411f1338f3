//! Stage 5: where each table's pages came from — the file that holds its
//! tablespace (path, partition, filesystem), read in place on the disk or
//! through the file's block map, or carved from the rest of the disk (free
//! space, damaged areas, files whose metadata is gone) — and the table
//! names that the files' paths give (`<datadir>/<db>/<table>.ibd`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::indexes::Indexes;
use super::placement::Placement;
use super::TableRecovery;
use crate::carve::follow::FileIndex;
use crate::carve::{PageRecord, Status};
use crate::innodb::frm::decode_filename;

/// Where a table's leaf pages were found (the best copy of each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PagesFrom {
    /// `file` (every page from its tablespace file), `carved` (none from a
    /// file: the filesystem did not name one, or its file is gone), `both`,
    /// or `none` (no leaf page found).
    pub origin: &'static str,
    /// The tablespace file (the first, for a partitioned table).
    pub file: Option<String>,
    /// Every file (a partitioned table has one per partition).
    pub files: Vec<String>,
    /// The partition number and filesystem the file is on.
    pub partition: Option<u32>,
    pub fs: Option<&'static str>,
    /// Leaf pages found in place on the disk, inside the file's extents.
    pub in_place: usize,
    /// Leaf pages read through the file's block map: they straddle two
    /// fragments of the file (or an extent-tree block), so no single place
    /// on the disk holds them.
    pub through_file_map: usize,
    /// Leaf pages found outside every file.
    pub carved: usize,
}

/// The `(db, table)` each tablespace file's path names, by space id:
/// `…/shop/users.ibd` → `("shop", "users")`, partitions (`logs#P#p2016.ibd`)
/// named after their table, MySQL's `@0024`-style escapes decoded.
pub fn space_names(files: &FileIndex) -> BTreeMap<u32, (String, String)> {
    let mut out = BTreeMap::new();
    for f in &files.files {
        let (Some(space), Some(stem)) = (f.space_id, f.path.strip_suffix(".ibd")) else {
            continue;
        };
        let mut parts = stem.rsplit('/');
        let (Some(table), Some(db)) = (parts.next(), parts.next()) else {
            continue;
        };
        let table = match table.find("#P#").or_else(|| table.find("#p#")) {
            Some(i) => &table[..i],
            None => table,
        };
        if db.is_empty() || table.is_empty() {
            continue;
        }
        out.insert(space, (decode_filename(db), decode_filename(table)));
    }
    out
}

/// Fills `pages_from` of every table from the leaf pages of its indexes.
pub(super) fn attribute(
    tables: &mut [TableRecovery],
    placement: &Placement,
    indexes: &Indexes,
    files: &FileIndex,
) {
    for tied in &placement.tied {
        let Some(t) = tables
            .iter_mut()
            .find(|t| t.db == tied.def.db && t.table == tied.def.name)
        else {
            continue;
        };
        let mut from = PagesFrom::default();
        // Files by the pages they gave; a page's own tablespace file before
        // a file holding a copy of it (the doublewrite buffer in ibdata1).
        let mut names: BTreeMap<&str, (bool, usize, u32, &'static str)> = BTreeMap::new();
        for key in &tied.indexes {
            let Some(leaves) = indexes.leaves.get(key) else {
                continue;
            };
            for p in best_copies(leaves) {
                match files.page_file(p) {
                    Some((f, _)) => {
                        if files.is_virtual(p.offset) {
                            from.through_file_map += 1;
                        } else {
                            from.in_place += 1;
                        }
                        let e =
                            names
                                .entry(f.path.as_str())
                                .or_insert((false, 0, f.partition, f.fs));
                        e.0 |= f.space_id == Some(p.space_id);
                        e.1 += 1;
                    }
                    None => from.carved += 1,
                }
            }
        }
        let mut ranked: Vec<_> = names.into_iter().collect();
        ranked.sort_by(|a, b| (b.1 .0, b.1 .1).cmp(&(a.1 .0, a.1 .1)).then(a.0.cmp(b.0)));
        if let Some((_, (_, _, partition, fs))) = ranked.first() {
            from.partition = Some(*partition);
            from.fs = Some(*fs);
        }
        from.files = ranked.iter().map(|(n, _)| n.to_string()).collect();
        from.file = from.files.first().cloned();
        let in_file = from.in_place + from.through_file_map;
        from.origin = match (in_file > 0, from.carved > 0) {
            (true, false) => "file",
            (false, true) => "carved",
            (true, true) => "both",
            (false, false) => "none",
        };
        t.pages_from = from;
    }
}

/// The best copy of each page number: good before damaged, then newest.
fn best_copies<'a>(leaves: &[&'a PageRecord]) -> Vec<&'a PageRecord> {
    let mut best: BTreeMap<u32, &PageRecord> = BTreeMap::new();
    for &p in leaves {
        let rank = |q: &PageRecord| (q.status != Status::Damaged, q.lsn);
        best.entry(p.page_no)
            .and_modify(|b| {
                if rank(p) > rank(b) {
                    *b = p;
                }
            })
            .or_insert(p);
    }
    best.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carve::follow::TablespaceFile;

    fn file(path: &str, space: u32) -> TablespaceFile {
        TablespaceFile {
            path: path.into(),
            partition: 1,
            fs: "ext4",
            inode: 12,
            size: 65536,
            fragments: 1,
            space_id: Some(space),
            runs: vec![],
        }
    }

    #[test]
    fn paths_name_tables() {
        let idx = FileIndex::new(
            vec![
                file("/var/lib/mysql/shop/users.ibd", 23),
                file("/var/lib/mysql/shop/logs#P#p2016.ibd", 28),
                file("/var/lib/mysql/my@002ddb/t@0024x.ibd", 40),
                file("/var/lib/mysql/ibdata1", 0),
            ],
            None,
        );
        let n = space_names(&idx);
        assert_eq!(n[&23], ("shop".into(), "users".into()));
        assert_eq!(n[&28], ("shop".into(), "logs".into()));
        assert_eq!(n[&40], ("my-db".into(), "t$x".into()));
        assert!(!n.contains_key(&0));
    }
}
