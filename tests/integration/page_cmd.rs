//! `salvage page` on real pages of the committed fixture image
//! `fixtures/images/main-ext4-modern.img.zst` (a MariaDB data directory on
//! ext4), compared byte for byte with golden files under
//! `tests/golden/page/`, with `--color always` and `--color never`:
//!
//! - a good leaf page: shop.sessions (space 34, page 3, five rows) at image
//!   offset 23552000, rows decoded with `fixtures/main/truth/schema.sql`;
//! - a damaged page: the image with `fixtures/images/damage/holes5.json`
//!   (64 KiB holes) applied, shop.users page 186 at 26537984, whose second
//!   half is a hole (no trailer, bad checksum), rows read as `recover`
//!   reads an unproven page;
//! - a repaired page: the image with `fixtures/images/bytedamage/
//!   bitflip1.json` applied, `--space 7 --page 3` (types.t_dynamic's root),
//!   whose byte 778 the carver repaired from the checksum.
//!
//! The golden files are rewritten, instead of compared, with
//! `SALVAGE_UPDATE_GOLDEN=1 cargo test --release --test integration page_cmd`.
//! Besides the golden files, the tests assert values read from the output
//! against the page's facts and the truth CSVs, so a wrong golden file
//! cannot hide a bug.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::{self, apply_damage, fixtures, unzstd};

/// The three images, made once per process in a fixed folder of the
/// build's temporary directory (a static is never dropped, so a `TempDir`
/// here would be left behind by every run).
struct Images {
    good: PathBuf,
    holes: PathBuf,
    bitflip: PathBuf,
}

fn images() -> &'static Images {
    static IMAGES: OnceLock<Images> = OnceLock::new();
    IMAGES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("page_cmd");
        std::fs::create_dir_all(&dir).unwrap();
        let base = unzstd("images/main-ext4-modern.img.zst");
        let write = |name: &str, recipe: Option<&str>| {
            let mut img = base.clone();
            if let Some(r) = recipe {
                apply_damage(&mut img, &common::recipe(r));
            }
            // Written aside and renamed: another test process may read it.
            let p = dir.join(name);
            let tmp = dir.join(format!("{name}.{}", std::process::id()));
            std::fs::write(&tmp, img).unwrap();
            std::fs::rename(&tmp, &p).unwrap();
            p
        };
        Images {
            good: write("main.img", None),
            holes: write("holes5.img", Some("images/damage/holes5.json")),
            bitflip: write("bitflip1.img", Some("images/bytedamage/bitflip1.json")),
        }
    })
}

fn schema() -> PathBuf {
    fixtures().join("main/truth/schema.sql")
}

/// Runs `salvage page ARGS...`; returns (exit code, stdout, stderr).
fn page(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let o = assert_cmd::Command::cargo_bin("salvage")
        .unwrap()
        .arg("page")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `page` with `--color never` and `--color always`, each compared with its
/// golden file `<name>.txt` / `<name>.ansi`. Returns the plain output.
fn golden(name: &str, args: &[&std::ffi::OsStr]) -> String {
    let mut plain = String::new();
    for (mode, ext) in [("never", "txt"), ("always", "ansi")] {
        let mut a: Vec<&std::ffi::OsStr> = args.to_vec();
        a.push("--color".as_ref());
        a.push(mode.as_ref());
        let (code, out, err) = page(&a);
        assert_eq!(code, 0, "{err}");
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/page")
            .join(format!("{name}.{ext}"));
        if std::env::var_os("SALVAGE_UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &out).unwrap();
        } else {
            let want = std::fs::read_to_string(&file).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (SALVAGE_UPDATE_GOLDEN=1 writes it)",
                    file.display()
                )
            });
            assert!(
                out == want,
                "{name}.{ext} differs from the golden file {}",
                file.display()
            );
        }
        if mode == "never" {
            assert!(!out.contains('\x1b'), "--color never wrote an escape");
            plain = out;
        } else {
            assert!(out.contains("\x1b[36m"), "--color always: no cyan bytes");
            assert!(out.contains("48;5;"), "--color always: no region shading");
        }
    }
    plain
}

/// The value of a `  name   value` line of the fields section.
fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| {
            let rest = l.strip_prefix("  ")?.strip_prefix(name)?;
            rest.starts_with(' ').then(|| rest.trim())
        })
        .unwrap_or_else(|| panic!("no field {name}"))
}

/// The decoded values of the record at `offset`, as printed.
fn row_at(out: &str, offset: usize) -> String {
    let needle = format!("offset {offset:>5}");
    let line = out
        .lines()
        .find(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("no record at {offset}"));
    line[line.find("  (").expect("row values") + 2..].to_string()
}

/// A truth CSV row (simple rows without quoting), as the page prints it.
fn truth_row(table: &str, id_prefix: &str) -> String {
    let csv = std::fs::read_to_string(fixtures().join(format!("main/truth/{table}.csv"))).unwrap();
    let line = csv
        .lines()
        .find(|l| l.starts_with(id_prefix))
        .unwrap_or_else(|| panic!("{id_prefix} not in {table}"));
    let vals: Vec<String> = line
        .split(',')
        .map(|v| {
            if v == "\\N" {
                "NULL".to_string()
            } else {
                format!("{v:?}")
            }
        })
        .collect();
    format!("({})", vals.join(", "))
}

#[test]
fn good_leaf_page_with_rows() {
    let im = images();
    let sch = schema();
    let out = golden(
        "good",
        &[
            im.good.as_ref(),
            "23552000".as_ref(),
            "--schema".as_ref(),
            sch.as_ref(),
        ],
    );
    assert!(out.starts_with("offset 23552000 (0x1676000): space 34 page 3, INDEX"));
    assert_eq!(field(&out, "page no"), "3");
    assert_eq!(field(&out, "space id"), "34");
    assert_eq!(field(&out, "n_recs"), "5");
    assert_eq!(field(&out, "level"), "0");
    assert!(out.contains("rows as shop.sessions (token, user_id, data, expires)"));
    // Every row of the table is on this page, as the truth has it.
    let csv = std::fs::read_to_string(fixtures().join("main/truth/shop/sessions.csv")).unwrap();
    assert_eq!(csv.lines().count(), 6);
    assert_eq!(
        row_at(&out, 536),
        truth_row("shop/sessions", "2476219199aeccdfc6b081723f99d02d")
    );
    assert_eq!(out.matches("  record ").count(), 5);
    // The stored full_crc32 holds, the others do not.
    assert!(
        out.contains("  full_crc32                stored 0xde59d35d computed 0xde59d35d ✓ match")
    );
    assert!(out.contains("◀ FIL header") && out.contains("◀ page directory, ◀ FIL trailer"));
    assert!(
        out.contains("◀ infimum") && out.contains("◀ supremum") && out.contains("◀ free space")
    );
    assert!(out.contains("◀ record 1 (header, fields)"));
    // The zero free space is squeezed.
    assert!(out.contains("\n│*       │"));
    assert!(out.lines().count() < 120);
}

#[test]
fn damaged_page_shows_its_rows_unproven() {
    let im = images();
    let sch = schema();
    let out = golden(
        "damaged",
        &[
            im.holes.as_ref(),
            "26537984".as_ref(),
            "--schema".as_ref(),
            sch.as_ref(),
            "--table".as_ref(),
            "shop.users".as_ref(),
        ],
    );
    assert!(out.starts_with(
        "offset 26537984 (0x194f000): space 23 page 186, INDEX, 16384 bytes, damaged"
    ));
    assert_eq!(field(&out, "page no"), "186");
    assert_eq!(field(&out, "n_recs"), "128");
    // No algorithm matches.
    let verdicts = &out[out.find("\nchecksums").unwrap()..];
    assert!(!verdicts.contains("✓"), "{verdicts}");
    // The rows before the hole, as the truth has them.
    assert_eq!(row_at(&out, 128), truth_row("shop/users", "11881,"));
    assert!(out.contains("list broken: record list: record at 4148"));
}

#[test]
fn repaired_page_names_the_byte() {
    let im = images();
    let sch = schema();
    let out = golden(
        "repaired",
        &[
            im.bitflip.as_ref(),
            "--space".as_ref(),
            "7".as_ref(),
            "--page".as_ref(),
            "3".as_ref(),
            "--schema".as_ref(),
            sch.as_ref(),
        ],
    );
    assert!(out.starts_with(
        "offset 29331456 (0x1bf9000): space 7 page 3, INDEX, 16384 bytes, repaired (full_crc32)"
    ));
    assert!(out.contains("copy 0 of 1 of space 7 page 3"));
    assert!(out.contains(
        "repaired: 1 byte(s) at page offset 778 (image offset 29332234): 0x04 on disk, 0x00 by the checksum"
    ));
    // The recipe flipped bit 2 of exactly that byte.
    let recipe =
        std::fs::read_to_string(fixtures().join("images/bytedamage/bitflip1.json")).unwrap();
    assert!(
        recipe.contains("\"offset\": 29332234,\n\"value\": 4"),
        "recipe"
    );
    assert_eq!(field(&out, "page no"), "3");
    assert_eq!(field(&out, "level"), "1");
    assert_eq!(field(&out, "n_recs"), "6");
    // The repaired page's checksum holds; the bytes on disk fail it.
    let (fixed, disk) = out.split_once("checksums of the bytes on disk").unwrap();
    assert!(
        fixed.contains("full_crc32                stored 0x27a1594c computed 0x27a1594c ✓ match")
    );
    assert!(disk.contains("full_crc32                stored 0x27a1594c computed 0x6e735a0b ✗"));
}

#[test]
fn bad_offsets_are_clear_errors() {
    let im = images();
    let size = std::fs::metadata(&im.good).unwrap().len();
    let past = size.to_string();
    let (code, out, err) = page(&[im.good.as_ref(), past.as_ref()]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains(&format!("offset {size} ")) && err.contains("past the end"),
        "{err}"
    );
    // The GPT header sector: not a page.
    let (code, _, err) = page(&[im.good.as_ref(), "512".as_ref()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("offset 512 (0x200): no InnoDB page there"),
        "{err}"
    );
    // A page number no copy has.
    let (code, _, err) = page(&[
        im.good.as_ref(),
        "--space".as_ref(),
        "34".as_ref(),
        "--page".as_ref(),
        "999".as_ref(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no copy of space 34 page 999"), "{err}");
}

#[test]
fn auto_colour_is_off_when_piped() {
    let im = images();
    let (code, out, _) = page(&[im.good.as_ref(), "23552000".as_ref()]);
    assert_eq!(code, 0);
    assert!(!out.contains('\x1b'));
    assert!(out.contains("◀ record 1 (header, fields)"));
    // Without --schema: the records, no rows.
    assert!(!out.contains("rows as"));
    assert!(out.contains("  record   1  heap   6  offset   536           next   226\n"));
}

#[test]
fn copies_and_page_zero() {
    let im = images();
    // shop.users page 53 has two copies: one in the doublewrite buffer of
    // ibdata1, one in users.ibd (same LSN).
    let (code, out, err) = page(&[
        im.good.as_ref(),
        "--space".as_ref(),
        "23".as_ref(),
        "--page".as_ref(),
        "53".as_ref(),
        "--copy".as_ref(),
        "1".as_ref(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("copy 1 of 2 of space 23 page 53"));
    assert!(out
        .contains("    copy 0: offset 14241792 LSN 10789471 ok, /var/lib/mysql/ibdata1 page 64\n"));
    assert!(out.contains(
        "  ▶ copy 1: offset 24375296 LSN 10789471 ok, /var/lib/mysql/shop/users.ibd page 53\n"
    ));
    assert_eq!(field(&out, "page no"), "53");
    let (code, _, err) = page(&[
        im.good.as_ref(),
        "--space".as_ref(),
        "23".as_ref(),
        "--page".as_ref(),
        "53".as_ref(),
        "--copy".as_ref(),
        "2".as_ref(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("space 23 page 53 has 2 copies (0..1); --copy 2 is not one"),
        "{err}"
    );
    // Page 0 of types.t_dynamic: FSP header and extent descriptors.
    let (code, out, err) = page(&[
        im.good.as_ref(),
        "--space".as_ref(),
        "7".as_ref(),
        "--page".as_ref(),
        "0".as_ref(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("◀ FSP header") && out.contains("◀ XDES entries (256 of 40 bytes)"));
    assert_eq!(field(&out, "size"), "12 pages");
    assert_eq!(
        field(&out, "flags"),
        "0x00000015 (page size 16384, full_crc32)"
    );
}

/// A page picked by space and number in a MySQL 8 tablespace shows its
/// records as rows without `--schema`: the definition comes from the
/// tablespace's SDI. The rows are those of the corpus's own INSERT.
#[test]
fn rows_from_the_tablespaces_own_definition() {
    let dir = crate::common::corpus().join("KernelMaker__ibdNinja/tests/8.0");
    let sql = std::fs::read_to_string(dir.join("sql/01_simple_table.sql")).unwrap();
    let ibd = dir.join("fixtures/simple_table.ibd");
    let args = ["--space", "2", "--page", "4", "--color", "never"];
    let mut all = vec![ibd.as_os_str()];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    let (code, text, err) = page(&all);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("rows as ibdninja_test.simple_table (id, name, age, email)"));
    // (1, 'Alice', 30, 'alice@example.com') in the SQL is
    // ("1", "Alice", "30", "alice@example.com") on the page.
    let inserted: Vec<String> = sql
        .lines()
        .filter_map(|l| l.trim().strip_prefix('('))
        .map(|l| l.trim_end_matches([',', ';', ')']))
        .map(|l| {
            let v: Vec<String> = l
                .split(", ")
                .map(|f| format!("{:?}", f.trim_matches('\'')))
                .collect();
            format!("({})", v.join(", "))
        })
        .collect();
    assert_eq!(inserted.len(), 5, "{inserted:?}");
    for row in &inserted {
        assert!(text.contains(row.as_str()), "{row} not shown:\n{text}");
    }
}
