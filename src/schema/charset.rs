//! Character sets by collation id and by name.
//!
//! Collation ids are what `.frm` files, MySQL 8 SDI (`collation_id`) and the
//! InnoDB dictionary (`SYS_COLUMNS.PRTYPE` bits 16..23) store; names are what
//! `CREATE TABLE` says. The id tables follow the public lists of MySQL
//! (`INFORMATION_SCHEMA.COLLATIONS`, `strings/ctype-*.cc`) and MariaDB
//! (including its NOPAD ids at 1024 + base id and its UCA-14.0.0 ids from
//! 2048); the code is our own.

use super::Charset;

/// The character set of a collation id. Unknown ids are [`Charset::Other`],
/// so the id survives for a report.
pub fn from_collation_id(id: u32) -> Charset {
    match charset_name_of_collation(id) {
        Some(name) => from_charset_name(name).unwrap_or(Charset::Other(id)),
        None => Charset::Other(id),
    }
}

/// The MySQL/MariaDB character set name of a collation id (`"latin1"`,
/// `"utf8mb3"`, ...), for ids this module knows.
pub fn charset_name_of_collation(id: u32) -> Option<&'static str> {
    // MariaDB: NOPAD variants of the classic collations are 1024 + base id.
    if (1024..2048).contains(&id) {
        return charset_name_of_collation(id - 1024);
    }
    // MariaDB 10.10+: UCA 14.0.0 collations, 256 ids per character set.
    if (2048..2304).contains(&id) {
        return Some("utf8mb3");
    }
    if (2304..2560).contains(&id) {
        return Some("utf8mb4");
    }
    if (2560..2816).contains(&id) {
        return Some("ucs2");
    }
    if (2816..3072).contains(&id) {
        return Some("utf16");
    }
    if (3072..3328).contains(&id) {
        return Some("utf32");
    }
    Some(match id {
        1 | 84 => "big5",
        2 | 9 | 21 | 27 | 77 => "latin2",
        3 | 69 => "dec8",
        4 | 80 => "cp850",
        5 | 8 | 15 | 31 | 47 | 48 | 49 | 94 => "latin1",
        6 | 72 => "hp8",
        7 | 74 => "koi8r",
        10 | 82 => "swe7",
        11 | 65 => "ascii",
        12 | 91 => "ujis",
        13 | 88 => "sjis",
        14 | 23 | 50 | 51 | 52 => "cp1251",
        16 | 71 => "hebrew",
        18 | 89 => "tis620",
        19 | 85 => "euckr",
        20 | 41 | 42 | 79 => "latin7",
        22 | 75 => "koi8u",
        24 | 86 => "gb2312",
        25 | 70 => "greek",
        26 | 34 | 44 | 66 | 99 => "cp1250",
        28 | 87 => "gbk",
        29 | 58 | 59 => "cp1257",
        30 | 78 => "latin5",
        32 | 64 => "armscii8",
        33 | 76 | 83 | 192..=215 | 223 | 576..=579 => "utf8mb3",
        35 | 90 | 128..=151 | 159 | 640..=643 => "ucs2",
        36 | 68 => "cp866",
        37 | 73 => "keybcs2",
        38 | 43 => "macce",
        39 | 53 => "macroman",
        40 | 81 => "cp852",
        45 | 46 | 224..=247 | 255..=323 | 608..=611 => "utf8mb4",
        54 | 55 | 101..=124 | 327 | 672..=675 => "utf16",
        56 | 62 => "utf16le",
        57 | 67 => "cp1256",
        60 | 61 | 160..=183 | 736..=739 => "utf32",
        63 => "binary",
        92 | 93 => "geostd8",
        95 | 96 => "cp932",
        97 | 98 => "eucjpms",
        248..=250 => "gb18030",
        _ => return None,
    })
}

/// The [`Charset`] of a character set name (`utf8`, `utf8mb3`, `latin1`,
/// ...), case-insensitive. `None` for names this crate does not know.
pub fn from_charset_name(name: &str) -> Option<Charset> {
    let n = name.trim().to_ascii_lowercase();
    Some(match n.as_str() {
        "latin1" => Charset::Latin1,
        "utf8" | "utf8mb3" => Charset::Utf8mb3,
        "utf8mb4" => Charset::Utf8mb4,
        "gbk" => Charset::Gbk,
        "ujis" | "eucjpms" => Charset::Ujis,
        "binary" => Charset::Binary,
        "ascii" => Charset::Ascii,
        "utf16" => Charset::Utf16,
        "ucs2" => Charset::Ucs2,
        "utf32" => Charset::Utf32,
        "big5" => Charset::Big5,
        "sjis" | "cp932" => Charset::Sjis,
        "euckr" => Charset::Euckr,
        "gb2312" => Charset::Gb2312,
        "gb18030" => Charset::Gb18030,
        "cp1251" => Charset::Cp1251,
        _ => {
            return default_collation_id(&n).map(Charset::Other);
        }
    })
}

/// The default collation id of a character set name, for the sets that have
/// no [`Charset`] variant of their own (so they can be [`Charset::Other`]).
fn default_collation_id(charset: &str) -> Option<u32> {
    Some(match charset {
        "latin2" => 9,
        "dec8" => 3,
        "cp850" => 4,
        "hp8" => 6,
        "koi8r" => 7,
        "swe7" => 10,
        "hebrew" => 16,
        "tis620" => 18,
        "latin7" => 41,
        "koi8u" => 22,
        "greek" => 25,
        "cp1250" => 26,
        "cp1257" => 59,
        "latin5" => 30,
        "armscii8" => 32,
        "cp866" => 36,
        "keybcs2" => 37,
        "macce" => 38,
        "macroman" => 39,
        "cp852" => 40,
        "utf16le" => 56,
        "cp1256" => 57,
        "geostd8" => 92,
        _ => return None,
    })
}

/// The [`Charset`] of a collation name (`utf8mb4_general_ci`, `latin1_bin`,
/// `binary`, `utf8_unicode_ci`, MariaDB's `uca1400_ai_ci` which means
/// utf8mb4 when no charset is given), case-insensitive.
pub fn from_collation_name(name: &str) -> Option<Charset> {
    let n = name.trim().to_ascii_lowercase();
    if n == "binary" {
        return Some(Charset::Binary);
    }
    if n.starts_with("uca1400_") {
        return Some(Charset::Utf8mb4);
    }
    // The charset is the longest known prefix before an underscore:
    // "utf8mb4_0900_ai_ci" -> "utf8mb4", "utf16le_bin" -> "utf16le".
    let mut best = None;
    for (i, _) in n.match_indices('_') {
        if let Some(cs) = from_charset_name(&n[..i]) {
            best = Some(cs);
        }
    }
    best
}

/// A name that is either a charset or a collation.
pub fn from_name(name: &str) -> Option<Charset> {
    from_charset_name(name).or_else(|| from_collation_name(name))
}

/// The default collation id of a [`Charset`] (as MySQL 5.7 / MariaDB would
/// pick), for writing `.frm`-like metadata or reports.
pub fn default_collation_of(cs: Charset) -> u32 {
    match cs {
        Charset::Latin1 => 8,
        Charset::Utf8mb3 => 33,
        Charset::Utf8mb4 => 45,
        Charset::Gbk => 28,
        Charset::Ujis => 12,
        Charset::Binary => 63,
        Charset::Ascii => 11,
        Charset::Utf16 => 54,
        Charset::Ucs2 => 35,
        Charset::Utf32 => 60,
        Charset::Big5 => 1,
        Charset::Sjis => 13,
        Charset::Euckr => 19,
        Charset::Gb2312 => 24,
        Charset::Gb18030 => 248,
        Charset::Cp1251 => 51,
        Charset::Other(id) => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for (id, cs) in [
            (8, Charset::Latin1),
            (47, Charset::Latin1),
            (48, Charset::Latin1),
            (49, Charset::Latin1),
            (33, Charset::Utf8mb3),
            (83, Charset::Utf8mb3),
            (192, Charset::Utf8mb3),
            (45, Charset::Utf8mb4),
            (46, Charset::Utf8mb4),
            (224, Charset::Utf8mb4),
            (255, Charset::Utf8mb4),
            (309, Charset::Utf8mb4),
            (28, Charset::Gbk),
            (87, Charset::Gbk),
            (12, Charset::Ujis),
            (91, Charset::Ujis),
            (63, Charset::Binary),
            (11, Charset::Ascii),
            (65, Charset::Ascii),
            (1069, Charset::Utf8mb4),
            (2304, Charset::Utf8mb4),
            (248, Charset::Gb18030),
            (9, Charset::Other(9)),
            (9999, Charset::Other(9999)),
        ] {
            assert_eq!(from_collation_id(id), cs, "id {id}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(from_name("utf8"), Some(Charset::Utf8mb3));
        assert_eq!(from_name("UTF8MB4"), Some(Charset::Utf8mb4));
        assert_eq!(from_name("utf8mb4_0900_ai_ci"), Some(Charset::Utf8mb4));
        assert_eq!(from_name("utf8_general_ci"), Some(Charset::Utf8mb3));
        assert_eq!(from_name("utf8mb3_general_ci"), Some(Charset::Utf8mb3));
        assert_eq!(from_name("latin1_swedish_ci"), Some(Charset::Latin1));
        assert_eq!(from_name("ascii_general_ci"), Some(Charset::Ascii));
        assert_eq!(from_name("gbk_chinese_ci"), Some(Charset::Gbk));
        assert_eq!(from_name("binary"), Some(Charset::Binary));
        assert_eq!(from_name("uca1400_ai_ci"), Some(Charset::Utf8mb4));
        assert_eq!(from_name("latin2_general_ci"), Some(Charset::Other(9)));
        assert_eq!(from_name("klingon"), None);
    }
}
