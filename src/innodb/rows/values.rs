//! Decoding a parsed record into a [`PageText`]: its key bytes, DB_TRX_ID,
//! each column's value (in place from the page, off-page values assembled
//! through a [`PageSource`] or proven and deferred), the defaults of columns
//! added instantly after it was written, and the columns that failed.
//!
//! Format facts live elsewhere: values by column type in
//! [`crate::innodb::types`], off-page chains in [`crate::innodb::lob`],
//! deferred values in [`crate::innodb::deferred`]; instant defaults come
//! from the [`TableDef`] or the page's metadata record (MariaDB
//! `btr0cur.cc` btr_cur_instant_init_low).
//!
//! [`PageSource`]: crate::innodb::lob::PageSource
//! [`TableDef`]: crate::schema::TableDef

use std::borrow::Cow;

use super::layout::{PhysField, PhysKind};
use super::parse::{Ctx, FieldMap, Parsed};
use super::text::{put_value, ColumnFailure, InstantMetadata, PageText, RecordInfo, RecordOrigin};
use crate::innodb::deferred::{Deferred, Form};
use crate::innodb::lob::{read_extern, ExternRef, EXTERN_REF_SIZE};
use crate::innodb::record::FieldPos;
use crate::schema::Column;

impl Ctx<'_, '_> {
    /// The full bytes of a field (following an off-page reference).
    fn field_bytes(&self, f: &FieldPos) -> Result<Option<Cow<'_, [u8]>>, String> {
        match *f {
            FieldPos::Null => Ok(None),
            FieldPos::Inline { .. } => Ok(f.bytes(self.page).map(Cow::Borrowed)),
            FieldPos::External { .. } => {
                let b = f.bytes(self.page).ok_or("field outside the page")?;
                let (local, r) = b.split_at(b.len() - EXTERN_REF_SIZE);
                let r = ExternRef::parse(r).ok_or("short external reference")?;
                let ext = read_extern(&r, self.pages).map_err(|e| e.to_string())?;
                let mut v = Vec::with_capacity(local.len() + ext.len());
                v.extend_from_slice(local);
                v.extend_from_slice(&ext);
                Ok(Some(Cow::Owned(v)))
            }
        }
    }

    /// An off-page field of `col` longer than the decoder's limit, proven
    /// ([`Deferred::check`]) but not assembled; `None` when the field is
    /// to be read whole.
    fn deferrable(&self, f: &FieldPos, col: &Column) -> Option<Result<Deferred, String>> {
        let limit = self.defer_over?;
        if !matches!(f, FieldPos::External { .. }) {
            return None;
        }
        let form = Form::of(col)?;
        let b = f.bytes(self.page)?;
        let (local, r) = b.split_at(b.len().checked_sub(EXTERN_REF_SIZE)?);
        let r = ExternRef::parse(r)?;
        if (local.len() as u64).saturating_add(r.len) <= limit || !form.defers(&r, self.pages) {
            return None;
        }
        Some(Deferred::check(local, r, col, form, self.pages))
    }

    pub(super) fn metadata_of(&self, p: &Parsed, all: &[FieldPos]) -> InstantMetadata {
        let mut defaults = vec![None; self.table.columns.len()];
        for (f, pi) in p.fields(all) {
            if let Some(PhysField {
                kind:
                    PhysKind::Column {
                        idx, prefix: false, ..
                    },
                ..
            }) = self.phys.get(pi)
            {
                if let Ok(v) = self.field_bytes(f) {
                    defaults[*idx] = Some(v.map(Cow::into_owned));
                }
            }
        }
        InstantMetadata {
            defaults,
            alter: p.alter_metadata,
        }
    }

    /// Decodes record `p` into `out` (values, key, failures, record info).
    /// `have` is scratch space.
    pub(super) fn row_into(
        &self,
        p: &Parsed,
        all: &[FieldPos],
        origin: RecordOrigin,
        values: bool,
        out: &mut PageText,
        have: &mut Vec<bool>,
    ) {
        let h = &p.header;
        let ncols = self.table.columns.len();
        // Which columns the record holds, unless it holds every field of a
        // layout that has every column.
        let all_fields = matches!(p.map, FieldMap::Identity(n) if n == self.phys.len());
        let track = values && !(self.complete && all_fields);
        if track {
            have.clear();
            have.resize(ncols, false);
        }
        let r = out.values.push_null_row();
        let base = r * out.values.ncols;
        let mut trx_id = None;
        for (f, pi) in p.fields(all) {
            let Some(pf) = self.phys.get(pi) else {
                continue;
            };
            if pf.is_key {
                out.push_key_field(f.bytes(self.page).unwrap_or(&[]));
            }
            match pf.kind {
                PhysKind::TrxId => {
                    if let Some(b) = f.bytes(self.page) {
                        trx_id = Some(b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)));
                    }
                }
                PhysKind::Column {
                    idx,
                    col,
                    prefix: false,
                } if values => {
                    if track {
                        have[idx] = true;
                    }
                    let bytes = match *f {
                        FieldPos::Inline { start, len } => {
                            // Most values: decoded from the page in place.
                            if let Some(b) = crate::bytes::slice(self.page, start, len) {
                                if let Err(e) = put_value(out, base + idx, col, b) {
                                    out.failures.push(ColumnFailure {
                                        column: idx,
                                        reason: e,
                                    });
                                }
                                continue;
                            }
                            Ok(None)
                        }
                        FieldPos::Null => Ok(None),
                        FieldPos::External { .. } => {
                            if let Some(d) = self.deferrable(f, col) {
                                match d {
                                    Ok(d) => out.values.put_deferred(base + idx, d),
                                    Err(reason) => out.failures.push(ColumnFailure {
                                        column: idx,
                                        reason,
                                    }),
                                }
                                continue;
                            }
                            self.field_bytes(f)
                        }
                    };
                    match bytes {
                        Ok(None) => {
                            if !col.nullable {
                                out.failures.push(ColumnFailure {
                                    column: idx,
                                    reason: "NULL in a NOT NULL column".into(),
                                });
                            }
                        }
                        Ok(Some(b)) => {
                            if let Err(e) = put_value(out, base + idx, col, &b) {
                                out.failures.push(ColumnFailure {
                                    column: idx,
                                    reason: e,
                                });
                            }
                        }
                        Err(e) => out.failures.push(ColumnFailure {
                            column: idx,
                            reason: e,
                        }),
                    }
                }
                _ => {}
            }
        }
        // Columns the record does not hold: instantly added after it was written.
        for (idx, col) in self.table.columns.iter().enumerate() {
            if !track || have[idx] || col.is_virtual {
                continue;
            }
            let from_meta = || {
                self.metadata
                    .as_ref()
                    .and_then(|m| m.defaults.get(idx))
                    .and_then(Option::as_ref)
            };
            match col.instant_default.as_ref().or_else(from_meta) {
                Some(None) => {}
                Some(Some(b)) => {
                    if let Err(e) = put_value(out, base + idx, col, b) {
                        out.failures.push(ColumnFailure {
                            column: idx,
                            reason: format!("instant default: {e}"),
                        });
                    }
                }
                None => out.failures.push(ColumnFailure {
                    column: idx,
                    reason: "column missing from the record and no instant default known".into(),
                }),
            }
        }
        // Keys and failures of one page, record offsets within a page:
        // all far below 4 GiB.
        out.records.push(RecordInfo {
            key_end: out.keys.len() as u32,
            fail_end: out.failures.len() as u32,
            trx_id,
            offset: h.origin as u32,
            heap_no: h.heap_no,
            delete_marked: h.deleted(),
            origin,
        });
    }
}
