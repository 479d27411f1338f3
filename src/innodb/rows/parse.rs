//! Parsing one record: which physical fields of the layout it holds (all, a
//! prefix for records written before an instant ADD COLUMN, a mapping for
//! MySQL 8.0.29+ row versions and MariaDB's metadata record) and where each
//! lies in the page ([`FieldPos`]), through [`crate::innodb::record`].
//!
//! Format facts: MariaDB `rem0rec.cc` rec_init_offsets_comp_ordinary
//! (REC_STATUS_INSTANT, the added-field count, the metadata BLOB field
//! after DB_ROLL_PTR), MySQL 8 `rem0lrec.h` / `rec.h` (instant and version
//! flags); REDUNDANT metadata record: the min_rec and deleted flags
//! (MariaDB `rem0rec.cc` rec_init_offsets).

use super::layout::{sys_spec, version_fields, PhysField};
use super::text::InstantMetadata;
use crate::innodb::lob::{PageSource, EXTERN_REF_SIZE};
use crate::innodb::record::{
    compact_extra, compact_fields_into, redundant_fields_into, FieldPos, FieldSpec, PageGeom,
    RecHeader, RecordError, RecordKind, Specs, REC_STATUS_INSTANT, REC_STATUS_NODE_PTR,
};
use crate::schema::TableDef;

/// One leaf page being decoded against one table's layout: what parsing
/// and decoding its records need.
pub(super) struct Ctx<'a, 't> {
    pub(super) page: &'a [u8],
    pub(super) g: PageGeom,
    pub(super) table: &'t TableDef,
    pub(super) phys: Vec<PhysField<'t>>,
    /// `phys[i].spec` for every i.
    pub(super) specs: &'a [FieldSpec],
    /// The first `n_core` of `specs`: the fields of most records.
    pub(super) core: Specs<'a>,
    pub(super) n_core: usize,
    pub(super) versioned: bool,
    pub(super) pages: &'a dyn PageSource,
    pub(super) metadata: Option<InstantMetadata>,
    /// Off-page values longer than this are not assembled
    /// ([`Deferred`](crate::innodb::deferred::Deferred)).
    pub(super) defer_over: Option<u64>,
    /// Every column that is not virtual is a whole field of the layout: a
    /// record holding every field of the layout holds every column.
    pub(super) complete: bool,
}

/// Index into `phys` of each field of a record (`usize::MAX`: MariaDB's
/// metadata BLOB).
pub(super) enum FieldMap {
    /// Field `k` is physical field `k`, for the first `n` fields.
    Identity(usize),
    Map(Vec<usize>),
}

impl FieldMap {
    fn len(&self) -> usize {
        match self {
            FieldMap::Identity(n) => *n,
            FieldMap::Map(m) => m.len(),
        }
    }

    fn get(&self, k: usize) -> Option<usize> {
        match self {
            FieldMap::Identity(n) => (k < *n).then_some(k),
            FieldMap::Map(m) => m.get(k).copied(),
        }
    }
}

/// A parsed record: which physical fields it holds, and where.
pub(super) struct Parsed {
    pub(super) header: RecHeader,
    /// First byte of the record and one past its last data byte.
    pub(super) start: usize,
    pub(super) end: usize,
    /// This record's entries of the page's field list.
    fields: std::ops::Range<usize>,
    pub(super) map: FieldMap,
    pub(super) kind: RecordKind,
    pub(super) alter_metadata: bool,
}

impl Parsed {
    /// (field, index into `phys`) of each field, from the page's field list.
    pub(super) fn fields<'s>(
        &'s self,
        all: &'s [FieldPos],
    ) -> impl Iterator<Item = (&'s FieldPos, usize)> {
        all[self.fields.clone()]
            .iter()
            .enumerate()
            .map_while(|(k, f)| Some((f, self.map.get(k)?)))
    }
}

impl Ctx<'_, '_> {
    /// Every data byte of the record is zero: MariaDB clears the data of a
    /// purged record (its header stays). No record version is all zeros:
    /// its DB_ROLL_PTR is never zero.
    pub(super) fn cleared(&self, p: &Parsed) -> bool {
        self.page
            .get(p.header.origin..p.end)
            .is_some_and(|d| !d.is_empty() && d.iter().all(|&x| x == 0))
    }

    /// Parses the record at `h`, appending its fields to `all`.
    pub(super) fn parse(
        &self,
        h: &RecHeader,
        all: &mut Vec<FieldPos>,
    ) -> Result<Parsed, RecordError> {
        let o = h.origin;
        let bad = |what: String| RecordError::Bad { origin: o, what };
        let limit = self.g.heap_top;
        let first = all.len();
        if !self.g.compact {
            let (start, end) = redundant_fields_into(self.page, h, limit, all)?;
            let n = all.len() - first;
            let min_rec = h.min_rec();
            // MariaDB REDUNDANT metadata record: min_rec flag; with the
            // deleted flag, one extra field (the metadata BLOB).
            let alter = min_rec && h.deleted();
            let n_phys = if alter { n.saturating_sub(1) } else { n };
            if n_phys > self.phys.len() || n_phys < self.n_core.min(self.table.n_key_fields + 2) {
                all.truncate(first);
                return Err(bad(format!("{n} fields, layout has {}", self.phys.len())));
            }
            let map = if alter {
                let mut map: Vec<usize> = (0..n_phys).collect();
                let at = self.table.n_key_fields + 2;
                map.insert(at.min(map.len()), usize::MAX);
                FieldMap::Map(map)
            } else {
                FieldMap::Identity(n_phys)
            };
            let kind = if min_rec {
                RecordKind::Metadata
            } else {
                RecordKind::Leaf
            };
            return Ok(Parsed {
                header: *h,
                start,
                end,
                fields: first..all.len(),
                map,
                kind,
                alter_metadata: alter,
            });
        }
        if h.status == REC_STATUS_NODE_PTR {
            return Err(bad("node pointer record on a leaf page".into()));
        }
        let extra = compact_extra(self.page, h, true)?;
        let mut alter = false;
        let map = if let Some(n_add) = extra.mariadb_n_fields_rel {
            let n = self.n_core + 1 + n_add;
            if h.min_rec() && h.deleted() {
                // 10.4+ alter metadata: the BLOB field follows DB_ROLL_PTR.
                alter = true;
                let n_phys = n - 1;
                if n_phys > self.phys.len() {
                    return Err(bad(format!("metadata with {n} fields")));
                }
                FieldMap::Identity(n_phys)
            } else {
                if n > self.phys.len() {
                    return Err(bad(format!(
                        "instant record with {n} fields, layout has {}",
                        self.phys.len()
                    )));
                }
                FieldMap::Identity(n)
            }
        } else if let Some(v) = extra.version {
            FieldMap::Map(version_fields(&self.phys, u32::from(v)))
        } else if let Some(n) = extra.mysql_n_fields {
            if n > self.phys.len() || n < self.table.n_key_fields + 2 {
                return Err(bad(format!("instant record with {n} fields")));
            }
            FieldMap::Identity(n)
        } else if self.versioned {
            let mut v = version_fields(&self.phys, 0);
            v.truncate(self.n_core);
            FieldMap::Map(v)
        } else {
            FieldMap::Identity(self.n_core)
        };
        let map = match map {
            FieldMap::Map(m) if m.iter().enumerate().all(|(k, &i)| k == i) => {
                FieldMap::Identity(m.len())
            }
            m => m,
        };
        // The specs of the fields this record holds: a prefix of the
        // layout's unless the record's fields are mapped.
        let (map, own_specs) = match map {
            FieldMap::Identity(n) if alter => {
                let mut map: Vec<usize> = (0..n).collect();
                let mut specs: Vec<FieldSpec> = map.iter().map(|&i| self.phys[i].spec).collect();
                let at = (self.table.n_key_fields + 2).min(specs.len());
                // The metadata BLOB reference: 20 bytes with no length byte
                // and no null bit (rec_init_offsets_comp_ordinary).
                specs.insert(at, sys_spec(EXTERN_REF_SIZE));
                map.insert(at, usize::MAX);
                (FieldMap::Map(map), Some(specs))
            }
            FieldMap::Identity(n) => (FieldMap::Identity(n), None),
            FieldMap::Map(m) => {
                let specs = m.iter().map(|&i| self.phys[i].spec).collect();
                (FieldMap::Map(m), Some(specs))
            }
        };
        let specs = match &own_specs {
            Some(s) => Specs::new(s),
            None if map.len() == self.core.fields().len() => self.core,
            None => Specs::new(&self.specs[..map.len()]),
        };
        let (start, end) = compact_fields_into(self.page, h, extra.size, specs, limit, all)?;
        let kind = if h.min_rec() && h.status == REC_STATUS_INSTANT {
            RecordKind::Metadata
        } else {
            RecordKind::Leaf
        };
        Ok(Parsed {
            header: *h,
            start,
            end,
            fields: first..all.len(),
            map,
            kind,
            alter_metadata: alter,
        })
    }
}
