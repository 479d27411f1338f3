//! MariaDB 10.3+ instant ALTER TABLE metadata: the layout of a table's
//! records read from its clustered index root and the metadata record of
//! its leftmost leaf ([`mariadb_instant_layout`]), with the 10.4+ field map
//! of the metadata BLOB.
//!
//! Format facts: MariaDB `btr0cur.cc` btr_cur_instant_init_low,
//! `page0page.h` page_get_instant, `dict0mem.cc` deserialise_columns.

use super::decode_leaf_page;
use super::layout::layout;
use crate::innodb::lob::{read_extern, ExternRef, PageSource, EXTERN_REF_SIZE};
use crate::innodb::record::{
    compact_extra, redundant_fields, FieldPos, PageGeom, REC_N_NEW_EXTRA_BYTES,
};
use crate::schema::{Column, IndexField, TableDef};

/// MariaDB 10.3+ instant ALTER TABLE: the layout of a table's records, read
/// from the clustered index root (`FIL_PAGE_TYPE_INSTANT` with the number of
/// "core" fields in PAGE_INSTANT) and the metadata record on the leftmost
/// leaf page (defaults of instantly added columns; with instant DROP or
/// reorder (10.4+), a BLOB mapping each physical field to a column).
///
/// Returns `Ok(None)` when the root says the table is not instant, or
/// `Ok(Some(def))`: `table` with `clustered` in physical order (dropped
/// columns as [`IndexField::DroppedColumn`]), `instant_cols_before` set to
/// the core field count and each added column's `instant_default`.
///
/// Sources (facts only): MariaDB `btr0cur.cc` btr_cur_instant_init_low,
/// `page0page.h` page_get_instant, `dict0mem.cc` deserialise_columns.
pub fn mariadb_instant_layout(
    table: &TableDef,
    root: &[u8],
    leftmost_leaf: &[u8],
    pages: &dyn PageSource,
) -> Result<Option<TableDef>, String> {
    use crate::bytes::{be_u16, be_u32};
    use crate::innodb::fil::{FIL_PAGE_DATA, FIL_PAGE_TYPE, FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB};
    use crate::innodb::page_header::PAGE_DIRECTION;
    use crate::innodb::record::{compact_header, redundant_header};

    if be_u16(root, FIL_PAGE_TYPE) != Some(FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB) {
        return Ok(None);
    }
    let n_core =
        usize::from(be_u16(root, FIL_PAGE_DATA + PAGE_DIRECTION).ok_or("short root")? >> 3);
    let n_sys = table.n_key_fields + 2;
    if n_core < n_sys || n_core > crate::innodb::record::REC_MAX_N_FIELDS {
        return Err(format!("root says {n_core} core fields"));
    }
    let g = PageGeom::parse(leftmost_leaf).ok_or("leftmost leaf is not an index page")?;
    if g.level != 0 {
        return Err("leftmost leaf is not a leaf".into());
    }
    let inf = if g.compact {
        compact_header(leftmost_leaf, g.infimum)
    } else {
        redundant_header(leftmost_leaf, g.infimum)
    }
    .ok_or("infimum unreadable")?;
    let h = if g.compact {
        compact_header(leftmost_leaf, inf.next)
    } else {
        redundant_header(leftmost_leaf, inf.next)
    }
    .ok_or("first record unreadable")?;
    if !h.min_rec() {
        return Err("first record of the leftmost leaf is not the metadata record".into());
    }
    let mut def = table.clone();
    def.instant_cols_before = Some((n_core - n_sys) as u32);
    if h.deleted() {
        // 10.4+ metadata: find the BLOB reference after DB_ROLL_PTR.
        let phys = layout(table, g.compact)?;
        let blob = if g.compact {
            let extra = compact_extra(leftmost_leaf, &h, false).map_err(|e| e.to_string())?;
            let n_fields = n_core
                + 1
                + extra
                    .mariadb_n_fields_rel
                    .ok_or("metadata without field count")?;
            // The null bitmap size depends on the layout we are looking for:
            // try each and keep the one whose reference leads to a valid map.
            let mut found = None;
            for nb in 0..=n_fields.div_ceil(8) {
                let mut lens = (h.origin - REC_N_NEW_EXTRA_BYTES - extra.size).checked_sub(nb);
                let mut data = 0usize;
                for p in &phys[..table.n_key_fields] {
                    match p.spec.fixed_len {
                        Some(l) => data += l,
                        None => {
                            let Some(l) = lens.and_then(|l| l.checked_sub(1)) else {
                                break;
                            };
                            let b0 = leftmost_leaf.get(l).copied().unwrap_or(0);
                            lens = Some(l);
                            if p.spec.big && b0 & 0x80 != 0 {
                                lens = l.checked_sub(1);
                                let b1 = lens
                                    .and_then(|l| leftmost_leaf.get(l))
                                    .copied()
                                    .unwrap_or(0);
                                data += (usize::from(b0 & 0x3F) << 8) | usize::from(b1);
                            } else {
                                data += usize::from(b0);
                            }
                        }
                    }
                }
                let at = h.origin + data + 13;
                let Some(r) = crate::bytes::slice(leftmost_leaf, at, EXTERN_REF_SIZE)
                    .and_then(ExternRef::parse)
                else {
                    continue;
                };
                if let Ok(b) = read_extern(&r, pages) {
                    if parse_field_map(&b, n_fields - 1 - n_sys).is_some() {
                        found = Some(b);
                        break;
                    }
                }
            }
            found.ok_or("metadata BLOB not found")?
        } else {
            let raw = redundant_fields(leftmost_leaf, &h, g.heap_top).map_err(|e| e.to_string())?;
            let f = raw.fields.get(n_sys).ok_or("metadata record too short")?;
            let FieldPos::External { .. } = f else {
                return Err("metadata BLOB field is not external".into());
            };
            let b = f
                .bytes(leftmost_leaf)
                .ok_or("metadata field outside page")?;
            let r = ExternRef::parse(&b[b.len() - EXTERN_REF_SIZE..]).ok_or("bad reference")?;
            read_extern(&r, pages).map_err(|e| e.to_string())?
        };
        let n_non_pk = be_u32(&blob, 0).ok_or("short metadata BLOB")? as usize;
        let map = parse_field_map(&blob, n_non_pk).ok_or("bad metadata BLOB")?;
        // Stored (non-virtual) columns by dictionary position.
        let stored: Vec<usize> = (0..table.columns.len())
            .filter(|&i| !table.columns[i].is_virtual)
            .collect();
        let mut clustered: Vec<IndexField> = table.clustered[..n_sys].to_vec();
        def.dropped_columns.clear();
        for e in map {
            match e {
                MapEntry::Column(ind) => {
                    let col = *stored
                        .get(ind)
                        .ok_or(format!("metadata names column {ind}"))?;
                    clustered.push(IndexField::Column {
                        col,
                        prefix_len: None,
                    });
                }
                MapEntry::Dropped {
                    not_null,
                    fixed_len,
                    big,
                } => {
                    let ty = match fixed_len {
                        Some(len) => crate::schema::ColumnType::Binary { len },
                        None if big => crate::schema::ColumnType::Blob,
                        None => crate::schema::ColumnType::VarBinary { len: 255 },
                    };
                    let n = def.dropped_columns.len();
                    def.dropped_columns.push(Column::new(
                        &format!("#dropped{n}"),
                        ty,
                        !not_null,
                        crate::schema::Charset::Binary,
                    ));
                    clustered.push(IndexField::DroppedColumn { col: n });
                }
            }
        }
        def.clustered = clustered;
    }
    // Defaults of the added columns, from the metadata record itself.
    let rows = decode_leaf_page(leftmost_leaf, &def, pages);
    let meta = rows.metadata.ok_or("metadata record did not parse")?;
    let phys_cols: Vec<Option<usize>> = def
        .clustered
        .iter()
        .map(|f| match f {
            IndexField::Column {
                col,
                prefix_len: None,
            } => Some(*col),
            _ => None,
        })
        .collect();
    for (pos, c) in phys_cols.iter().enumerate() {
        if let (true, Some(c)) = (pos >= n_core, c) {
            if let Some(d) = meta.defaults.get(*c).cloned().flatten() {
                def.columns[*c].instant_default = Some(d);
            }
        }
    }
    Ok(Some(def))
}

enum MapEntry {
    Column(usize),
    Dropped {
        not_null: bool,
        fixed_len: Option<u32>,
        big: bool,
    },
}

/// The field map of the 10.4+ metadata BLOB: 4-byte count, then 2 bytes per
/// non-key field (0x8000 dropped, 0x4000 NOT NULL, low bits column index or
/// for dropped fields 0 = variable, 1 = variable with 2-byte lengths,
/// n > 1 = fixed n - 1 bytes).
fn parse_field_map(b: &[u8], want: usize) -> Option<Vec<MapEntry>> {
    let n = crate::bytes::be_u32(b, 0)? as usize;
    if n != want || b.len() != 4 + 2 * n {
        return None;
    }
    (0..n)
        .map(|i| {
            let v = crate::bytes::be_u16(b, 4 + 2 * i)?;
            let ind = u32::from(v & 0x3FFF);
            Some(if v & 0x8000 != 0 {
                MapEntry::Dropped {
                    not_null: v & 0x4000 != 0,
                    fixed_len: (ind > 1).then(|| ind - 1),
                    big: ind == 1,
                }
            } else {
                MapEntry::Column(ind as usize)
            })
        })
        .collect()
}
