//! The progress `recover` reports: (leaf page copies done, copies to do),
//! on a real MariaDB `users.ibd` (19,980 live rows, deleted rows that pass 3
//! reads again). The total is known before each pass runs, so the bar
//! never runs past its end, never moves back, and ends full.

use crate::common;

use std::sync::Mutex;

use salvage::carve::follow::FileIndex;
use salvage::image::{Image, ReadMode};
use salvage::recover::{recover, Memory, RecoverOptions};

fn calls(limit: usize) -> (Vec<(usize, usize)>, usize, usize) {
    let data = common::unpack_datadir("main");
    let ibd = data.path().join("shop/users.ibd");
    let store = common::carve_file(&ibd, 2);
    let image = Image::open(&ibd, ReadMode::Mmap).unwrap();
    let sql = std::fs::read_to_string(common::fixtures().join("main/truth/schema.sql")).unwrap();
    let spill = tempfile::tempdir().unwrap();
    let opts = RecoverOptions {
        user_schemas: salvage::schema::sql::parse_create_tables(&sql, None).unwrap(),
        only: vec!["shop.users".into()],
        memory: Memory {
            limit,
            spill_dir: spill.path().to_path_buf(),
        },
        ..Default::default()
    };
    let seen = Mutex::new(Vec::new());
    let rec = recover(
        &image,
        &store,
        &FileIndex::default(),
        &opts,
        &|done, total| seen.lock().unwrap().push((done, total)),
    );
    let t = &rec.tables[0];
    (seen.into_inner().unwrap(), t.rows_written, t.deleted_rows)
}

#[test]
fn progress_total_is_known_before_each_pass_and_ends_full() {
    for limit in [0, 1 << 30] {
        let (seen, rows, deleted) = calls(limit);
        let all = format!("{seen:?}");
        assert_eq!(rows, 19_980, "{all}");
        assert!(deleted > 0, "pass 3 ran: {all}");
        let (done, total) = *seen.last().unwrap();
        assert!(total > 0 && done == total, "ends full: {all}");
        for w in seen.windows(2) {
            assert!(w[1].0 >= w[0].0, "done never goes back: {all}");
        }
        assert!(seen.iter().all(|&(d, t)| d <= t), "{all}");
        // One index: its pass 2 is set right once (down: the older copies
        // are not decoded again), and its pass 3 added once, before it runs.
        let grew = seen.windows(2).filter(|w| w[1].1 > w[0].1).count();
        assert!(grew <= 1, "the total grew {grew} times: {all}");
        // Once pass 3's share is in, the total stays.
        let last_change = seen.windows(2).rposition(|w| w[1].1 != w[0].1).unwrap_or(0);
        assert!(
            seen[last_change + 1].0 < total,
            "the last total was known before the work it counts: {all}"
        );
    }
}
