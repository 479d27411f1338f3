//! GUID partition tables (UEFI specification, chapter 5).
//!
//! The primary header sits at LBA 1 and its entry array at the header's
//! `PartitionEntryLBA`; a backup header (normally the disk's last LBA) points
//! to a second copy of the array. Both carry a CRC32 (IEEE, as zlib): the
//! header's over its first `HeaderSize` bytes with the CRC field zeroed, the
//! entries' over `NumberOfPartitionEntries * SizeOfPartitionEntry` bytes.
//!
//! Sector sizes of 512 and 4096 bytes are tried. Of the copies found, a fully
//! valid primary wins, then a fully valid backup (scheme
//! [`Scheme::GptBackup`]), then a copy whose header CRC fails but whose entry
//! CRC holds, then a valid header whose entries fail their CRC (entries used
//! as found). Each compromise is a [`Note`]. The protective MBR is not
//! required.

use std::borrow::Cow;

use super::fs::Note;
use super::{Partition, Scheme};
use crate::bytes::{le_u16, le_u32, le_u64, slice};
use crate::image::Image;

const SIGNATURE: &[u8; 8] = b"EFI PART";
/// The smallest header the specification defines (revision 1.0).
const MIN_HEADER: u32 = 92;
/// Entries per array we are willing to read (the specification's minimum
/// array is 128 entries; nothing real has more than a few hundred).
const MAX_ENTRIES: u32 = 16384;
const MAX_ENTRY_SIZE: u32 = 4096;
/// Upper bound on the bytes of one entry array.
const MAX_ARRAY_BYTES: u64 = 4 << 20;
/// Sector sizes tried, in order.
const SECTOR_SIZES: [u64; 2] = [512, 4096];

/// A GPT header whose fields are in range (its CRC may still have failed).
struct Header {
    /// Absolute byte offset of the header.
    offset: u64,
    sector: u64,
    alternate_lba: u64,
    entry_lba: u64,
    count: u32,
    entry_size: u32,
    entries_crc: u32,
    /// `None` when the header CRC holds, else (stored, computed).
    crc_mismatch: Option<(u32, u32)>,
}

impl Header {
    fn entries_offset(&self) -> u64 {
        self.entry_lba.saturating_mul(self.sector)
    }
    fn entries_len(&self) -> u64 {
        u64::from(self.count) * u64::from(self.entry_size)
    }
}

/// One copy of the table: its header and, if readable, its entry array.
struct Copy<'a> {
    header: Header,
    entries: Cow<'a, [u8]>,
    /// `None` when the entries' CRC holds, else (stored, computed).
    entries_mismatch: Option<(u32, u32)>,
}

impl Copy<'_> {
    /// Lower is better: 0 fully valid, 1 header CRC failed but entries hold,
    /// 2 header valid but entries fail; `None`: not to be trusted.
    fn rank(&self) -> Option<u8> {
        match (self.header.crc_mismatch, self.entries_mismatch) {
            (None, None) => Some(0),
            (Some(_), None) if self.header.count > 0 => Some(1),
            (None, Some(_)) => Some(2),
            _ => None,
        }
    }
}

/// Why a copy could not be read: `None` when there is no GPT signature at
/// all (nothing to report), else the reason.
type Failure = Option<String>;

fn crc32(b: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(b);
    c.sum()
}

/// Reads and checks the header at `lba` for sector size `sector`.
fn read_header(image: &Image, lba: u64, sector: u64) -> Result<Header, Failure> {
    let offset = lba
        .checked_mul(sector)
        .ok_or_else(|| Some(format!("LBA {lba} overflows")))?;
    if offset.saturating_add(sector) > image.size() {
        // Nothing seen: a small file is no evidence of a damaged GPT.
        return Err(None);
    }
    let b = image.bytes(offset, sector as usize);
    if slice(&b, 0, 8) != Some(&SIGNATURE[..]) {
        return Err(None);
    }
    let bad = |m: String| Err(Some(m));
    let header_size = le_u32(&b, 12).unwrap_or(0);
    if !(MIN_HEADER..=sector as u32).contains(&header_size) {
        return bad(format!("header size {header_size} out of range"));
    }
    let mut h = b[..header_size as usize].to_vec();
    let stored = le_u32(&h, 16).unwrap_or(0);
    h[16..20].fill(0);
    let computed = crc32(&h);
    let crc_mismatch = (stored != computed).then_some((stored, computed));
    let my_lba = le_u64(&b, 24).unwrap_or(0);
    if crc_mismatch.is_none() && my_lba != lba {
        return bad(format!(
            "header says it is at LBA {my_lba} but was read at LBA {lba} (stale copy)"
        ));
    }
    let count = le_u32(&b, 80).unwrap_or(0);
    let entry_size = le_u32(&b, 84).unwrap_or(0);
    if !(128..=MAX_ENTRY_SIZE).contains(&entry_size) || !entry_size.is_power_of_two() {
        return bad(format!(
            "partition entry size {entry_size} is not a power of two in 128..=4096"
        ));
    }
    if count > MAX_ENTRIES || u64::from(count) * u64::from(entry_size) > MAX_ARRAY_BYTES {
        return bad(format!(
            "{count} partition entries of {entry_size} bytes: too many"
        ));
    }
    Ok(Header {
        offset,
        sector,
        alternate_lba: le_u64(&b, 32).unwrap_or(0),
        entry_lba: le_u64(&b, 72).unwrap_or(0),
        count,
        entry_size,
        entries_crc: le_u32(&b, 88).unwrap_or(0),
        crc_mismatch,
    })
}

/// Reads the entry array a header points to and checks its CRC.
fn read_copy(image: &Image, header: Header) -> Result<Copy<'_>, String> {
    let off = header.entries_offset();
    let len = header.entries_len();
    if header.entry_lba.checked_mul(header.sector).is_none()
        || off.saturating_add(len) > image.size()
    {
        return Err(format!(
            "partition entries at LBA {} ({len} bytes) lie outside the image",
            header.entry_lba
        ));
    }
    let entries = image.bytes(off, len as usize);
    let computed = crc32(&entries);
    let entries_mismatch =
        (computed != header.entries_crc).then_some((header.entries_crc, computed));
    Ok(Copy {
        header,
        entries,
        entries_mismatch,
    })
}

/// The outcome of trying one copy: usable (maybe with a failed CRC), or why not.
fn try_copy(image: &Image, lba: u64, sector: u64) -> (Result<Copy<'_>, Failure>, Option<u64>) {
    match read_header(image, lba, sector) {
        Err(f) => (Err(f), None),
        Ok(h) => {
            let alt = h.crc_mismatch.is_none().then_some(h.alternate_lba);
            (read_copy(image, h).map_err(Some), alt)
        }
    }
}

/// What was found for one sector size.
enum Found {
    Table(Vec<Partition>, Vec<Note>),
    /// A signature was seen but no copy was usable.
    Unusable(Vec<Note>),
    Nothing,
}

/// The partitions of the primary GPT, or of the backup when the primary is
/// damaged; `None` when the disk has no usable GPT.
pub fn read(image: &Image, notes: &mut Vec<Note>) -> Option<Vec<Partition>> {
    let mut unusable = Vec::new();
    for sector in SECTOR_SIZES {
        match read_sector_size(image, sector) {
            Found::Table(parts, n) => {
                notes.extend(n);
                return Some(parts);
            }
            Found::Unusable(n) => unusable.extend(n),
            Found::Nothing => {}
        }
    }
    notes.extend(unusable);
    None
}

fn read_sector_size(image: &Image, sector: u64) -> Found {
    let lbas = image.size() / sector;
    if lbas < 3 {
        return Found::Nothing;
    }
    let mut notes = Vec::new();
    let (primary, alt) = try_copy(image, 1, sector);
    let primary_failure = match &primary {
        Ok(c) if c.rank() == Some(0) => None,
        Ok(c) => Some(copy_problem(c)),
        Err(f) => Some(
            f.clone()
                .unwrap_or_else(|| "no \"EFI PART\" signature".into()),
        ),
    };

    let mut backups = Vec::new();
    if let Some(alt) = alt.filter(|&a| a > 1) {
        backups.push(alt);
    }
    if primary_failure.is_some() && !backups.contains(&(lbas - 1)) {
        backups.push(lbas - 1);
    }
    let mut seen = matches!(&primary, Ok(_) | Err(Some(_)));
    let mut best: Option<(u8, Copy)> = match primary {
        Ok(c) => c.rank().map(|r| (r, c)),
        Err(_) => None,
    };
    for lba in backups {
        let (copy, _) = try_copy(image, lba, sector);
        match copy {
            Ok(c) => {
                seen = true;
                match c.rank() {
                    Some(r) if best.as_ref().is_none_or(|(b, _)| r < *b) => best = Some((r, c)),
                    Some(0) => {}
                    _ => notes.push(Note {
                        structure: "GPT backup header".into(),
                        offset: c.header.offset,
                        message: copy_problem(&c),
                    }),
                }
            }
            Err(Some(m)) => {
                seen = true;
                notes.push(Note {
                    structure: "GPT backup header".into(),
                    offset: lba.saturating_mul(sector),
                    message: m,
                })
            }
            // A primary that names an alternate with no signature there.
            Err(None) if alt == Some(lba) && primary_failure.is_none() => {
                let at = lba.saturating_mul(sector);
                notes.push(Note {
                    structure: "GPT backup header".into(),
                    offset: at,
                    message: if at.saturating_add(sector) > image.size() {
                        format!(
                            "lies past the end of the image ({} bytes; truncated?)",
                            image.size()
                        )
                    } else {
                        "no \"EFI PART\" signature where the primary header says the backup is"
                            .into()
                    },
                })
            }
            Err(None) => {}
        }
    }
    let Some((rank, copy)) = best else {
        if let (true, Some(m)) = (seen, primary_failure) {
            notes.push(Note {
                structure: "GPT primary header".into(),
                offset: sector,
                message: format!("{m}; no usable backup either"),
            });
        }
        return if seen {
            Found::Unusable(notes)
        } else {
            Found::Nothing
        };
    };
    let is_backup = copy.header.offset != sector;
    if is_backup {
        if let Some(m) = &primary_failure {
            notes.push(Note {
                structure: "GPT primary header".into(),
                offset: sector,
                message: format!(
                    "{m}; the backup GPT (header at offset {}) was used",
                    copy.header.offset
                ),
            });
        }
    }
    if rank > 0 {
        notes.push(Note {
            structure: if is_backup {
                "GPT backup header"
            } else {
                "GPT primary header"
            }
            .into(),
            offset: copy.header.offset,
            message: match rank {
                1 => format!(
                    "{}; its partition entries' CRC32 holds, so they were used",
                    copy_problem(&copy)
                ),
                _ => format!("{}; the entries were used as found", copy_problem(&copy)),
            },
        });
    }
    let scheme = if is_backup {
        Scheme::GptBackup
    } else {
        Scheme::Gpt
    };
    let parts = entries(image.size(), &copy, scheme, &mut notes);
    Found::Table(parts, notes)
}

/// What is wrong with a copy, in words.
fn copy_problem(c: &Copy) -> String {
    let mut v = Vec::new();
    if let Some((s, k)) = c.header.crc_mismatch {
        v.push(format!(
            "header CRC32 mismatch (stored 0x{s:08x}, computed 0x{k:08x})"
        ));
    }
    if let Some((s, k)) = c.entries_mismatch {
        v.push(format!(
            "partition entries at offset {} fail their CRC32 (stored 0x{s:08x}, computed 0x{k:08x})",
            c.header.entries_offset()
        ));
    }
    v.join("; ")
}

/// The non-empty entries of a copy as partitions, checked against the image.
fn entries(size: u64, copy: &Copy, scheme: Scheme, notes: &mut Vec<Note>) -> Vec<Partition> {
    let h = &copy.header;
    let mut out = Vec::new();
    for i in 0..h.count as usize {
        let Some(e) = slice(&copy.entries, i * h.entry_size as usize, 128) else {
            break;
        };
        if e[..16].iter().all(|&x| x == 0) {
            continue;
        }
        let at = h.entries_offset() + (i as u64) * u64::from(h.entry_size);
        let structure = format!("GPT partition entry {}", i + 1);
        let first = le_u64(e, 32).unwrap_or(0);
        let last = le_u64(e, 40).unwrap_or(0);
        let start = first.checked_mul(h.sector);
        let end = last.checked_add(1).and_then(|l| l.checked_mul(h.sector));
        let (start, mut end) = match (start, end) {
            (Some(s), Some(e)) if last >= first => (s, e),
            _ => {
                notes.push(Note {
                    structure,
                    offset: at,
                    message: format!("LBAs {first}..={last} make no partition; skipped"),
                });
                continue;
            }
        };
        if start >= size {
            notes.push(Note {
                structure,
                offset: at,
                message: format!(
                    "starts at offset {start}, past the end of the image ({size} bytes); skipped"
                ),
            });
            continue;
        }
        if end > size {
            notes.push(Note {
                structure,
                offset: at,
                message: format!(
                    "ends at offset {end}, past the end of the image ({size} bytes); clipped"
                ),
            });
            end = size;
        }
        out.push(Partition {
            number: i as u32 + 1,
            start,
            len: end - start,
            scheme,
            type_name: type_name(&e[..16]),
            name: name(&e[56..128]),
        });
    }
    out
}

/// A GUID as the specification prints it (first three fields little-endian).
pub fn guid_text(g: &[u8]) -> String {
    let d1 = le_u32(g, 0).unwrap_or(0);
    let d2 = le_u16(g, 4).unwrap_or(0);
    let d3 = le_u16(g, 6).unwrap_or(0);
    let tail: String = g
        .get(8..16)
        .unwrap_or(&[])
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let (a, b) = tail.split_at(tail.len().min(4));
    format!("{d1:08X}-{d2:04X}-{d3:04X}-{a}-{b}")
}

/// Common type GUIDs by a short name; others as the GUID text.
fn type_name(g: &[u8]) -> String {
    let text = guid_text(g);
    let short = match text.as_str() {
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4" => "linux",
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" => "efi",
        "21686148-6449-6E6F-744E-656564454649" => "bios-boot",
        "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F" => "linux-swap",
        "E6D6D379-F507-44C2-A23C-238F2A3DF928" => "linux-lvm",
        "A19D880F-05FC-4D3B-A006-743F0F84911E" => "linux-raid",
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" => "linux-root-x86-64",
        "933AC7E1-2EB4-4F13-B844-0E14E2AEF915" => "linux-home",
        "BC13C2FF-59E6-4262-A352-B275FD6F7172" => "linux-boot",
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" => "ms-basic-data",
        "E3C9E316-0B5C-4DB8-817D-F92DF00215AE" => "ms-reserved",
        _ => return text,
    };
    short.into()
}

/// The partition name: UTF-16LE, up to 36 code units, ends at the first NUL.
fn name(b: &[u8]) -> Option<String> {
    let units: Vec<u16> = (0..36)
        .map_while(|i| le_u16(b, i * 2))
        .take_while(|&u| u != 0)
        .collect();
    (!units.is_empty()).then(|| String::from_utf16_lossy(&units))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::image::ReadMode;
    use std::path::Path;
    use std::process::Command;

    pub(crate) fn run(cmd: &str, args: &[&str]) -> String {
        let out = Command::new(cmd)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(
            out.status.success(),
            "{cmd} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn sparse(path: &Path, size: u64) {
        std::fs::File::create(path).unwrap().set_len(size).unwrap();
    }

    fn open(p: &Path) -> Image {
        Image::open(p, ReadMode::Mmap).unwrap()
    }

    fn patch(p: &Path, off: u64, bytes: &[u8]) {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
        f.write_all_at(bytes, off).unwrap();
    }

    fn read(p: &Path) -> (Option<Vec<Partition>>, Vec<Note>) {
        let mut notes = Vec::new();
        let r = super::read(&open(p), &mut notes);
        (r, notes)
    }

    /// One partition as `sgdisk -i N` prints it: first and last sector, type
    /// GUID, name.
    struct Info {
        first: u64,
        last: u64,
        guid: String,
        name: String,
    }

    fn sgdisk_info(p: &Path, n: u32) -> Info {
        let out = run("sgdisk", &["-i", &n.to_string(), p.to_str().unwrap()]);
        let field = |k: &str| -> String {
            out.lines()
                .find_map(|l| l.strip_prefix(k))
                .unwrap_or_else(|| panic!("no {k} in {out}"))
                .trim()
                .to_string()
        };
        let num = |k: &str| field(k).split(' ').next().unwrap().parse::<u64>().unwrap();
        let name = field("Partition name:");
        Info {
            first: num("First sector:"),
            last: num("Last sector:"),
            guid: field("Partition GUID code:")
                .split(' ')
                .next()
                .unwrap()
                .into(),
            name: name.trim_matches('\'').into(),
        }
    }

    const LONG_NAME: &str = "données ✓ exactly thirty-six units!!";

    /// A sparse 64 MiB disk with three partitions made by sgdisk.
    fn three(dir: &Path) -> std::path::PathBuf {
        let p = dir.join("disk.img");
        sparse(&p, 64 << 20);
        run(
            "sgdisk",
            &[
                "-n",
                "1:2048:+8M",
                "-t",
                "1:ef00",
                "-c",
                "1:EFI system",
                "-n",
                "2:0:+20M",
                "-t",
                "2:8300",
                "-c",
                &format!("2:{LONG_NAME}"),
                "-n",
                "3:0:0",
                "-t",
                "3:8e00",
                p.to_str().unwrap(),
            ],
        );
        p
    }

    /// Our partitions against `sgdisk -i` for each.
    fn check_against_sgdisk(p: &Path, parts: &[Partition], scheme: Scheme) {
        assert_eq!(parts.len(), 3);
        for part in parts {
            let i = sgdisk_info(p, part.number);
            assert_eq!(part.start, i.first * 512, "partition {}", part.number);
            assert_eq!(
                part.len,
                (i.last - i.first + 1) * 512,
                "partition {}",
                part.number
            );
            assert_eq!(part.scheme, scheme);
            assert_eq!(part.name.clone().unwrap_or_default(), i.name);
            let g = i.guid;
            let want = match part.number {
                1 => "efi",
                2 => "linux",
                _ => "linux-lvm",
            };
            assert_eq!(part.type_name, want, "{g}");
        }
    }

    #[test]
    fn sgdisk_three_partitions() {
        assert_eq!(LONG_NAME.encode_utf16().count(), 36);
        let dir = tempfile::tempdir().unwrap();
        let p = three(dir.path());
        let (parts, notes) = read(&p);
        let parts = parts.unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        check_against_sgdisk(&p, &parts, Scheme::Gpt);
        // The values passed to sgdisk.
        assert_eq!((parts[0].start, parts[0].len), (1 << 20, 8 << 20));
        assert_eq!((parts[1].start, parts[1].len), (9 << 20, 20 << 20));
        assert_eq!(parts[1].name.as_deref(), Some(LONG_NAME));
        assert_eq!(parts[0].name.as_deref(), Some("EFI system"));
        assert_eq!(parts[2].name, None);
        // The last usable LBA of a 64 MiB disk is 131038 (33 backup sectors).
        assert_eq!(parts[2].start + parts[2].len, 131039 * 512);
    }

    #[test]
    fn type_names_against_sgdisk() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("types.img");
        sparse(&p, 16 << 20);
        let codes = [
            ("ef02", "bios-boot"),
            ("8200", "linux-swap"),
            ("0700", "ms-basic-data"),
            ("fd00", "linux-raid"),
            ("8304", "linux-root-x86-64"),
            ("8302", "linux-home"),
            ("0c01", "ms-reserved"),
            ("ea00", "linux-boot"),
            ("a500", ""), // FreeBSD disklabel: shown as its GUID
        ];
        let mut args = Vec::new();
        for (i, (code, _)) in codes.iter().enumerate() {
            args.push("-n".to_string());
            args.push(format!("{}:0:+1M", i + 1));
            args.push("-t".to_string());
            args.push(format!("{}:{code}", i + 1));
        }
        args.push(p.to_str().unwrap().into());
        run(
            "sgdisk",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let parts = read(&p).0.unwrap();
        assert_eq!(parts.len(), codes.len());
        for (part, (_, want)) in parts.iter().zip(codes) {
            let info = sgdisk_info(&p, part.number);
            assert_eq!(part.start, info.first * 512);
            if want.is_empty() {
                assert_eq!(part.type_name, info.guid);
                assert_eq!(part.type_name, "516E7CB4-6ECF-11D6-8FF8-00022D09712B");
            } else {
                assert_eq!(part.type_name, want, "{}", info.guid);
            }
        }
    }

    #[test]
    fn primary_header_zeroed_uses_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = three(dir.path());
        let want = read(&p).0.unwrap();
        patch(&p, 512, &[0u8; 512]);
        let (parts, notes) = read(&p);
        let parts = parts.unwrap();
        check_against_sgdisk_values(&parts, &want, Scheme::GptBackup);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].structure, "GPT primary header");
        assert_eq!(notes[0].offset, 512);
        let backup = (64u64 << 20) - 512;
        assert!(
            notes[0]
                .message
                .contains(&format!("backup GPT (header at offset {backup})")),
            "{}",
            notes[0]
        );
    }

    fn check_against_sgdisk_values(parts: &[Partition], want: &[Partition], scheme: Scheme) {
        assert_eq!(parts.len(), want.len());
        for (a, b) in parts.iter().zip(want) {
            assert_eq!(a.scheme, scheme);
            assert_eq!((a.number, a.start, a.len), (b.number, b.start, b.len));
            assert_eq!((&a.type_name, &a.name), (&b.type_name, &b.name));
        }
    }

    #[test]
    fn primary_entries_damaged_uses_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = three(dir.path());
        let want = read(&p).0.unwrap();
        // One byte of partition 2's first LBA in the primary array (LBA 2).
        patch(&p, 1024 + 128 + 33, &[0x7f]);
        let (parts, notes) = read(&p);
        check_against_sgdisk_values(&parts.unwrap(), &want, Scheme::GptBackup);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0]
            .message
            .contains("partition entries at offset 1024 fail their CRC32"));
    }

    #[test]
    fn both_header_crcs_bad_entries_good_uses_primary_with_note() {
        let dir = tempfile::tempdir().unwrap();
        let p = three(dir.path());
        let want = read(&p).0.unwrap();
        // A byte of the disk GUID in both headers (covered by the header CRC only).
        patch(&p, 512 + 60, &[0xAB]);
        patch(&p, (64 << 20) - 512 + 60, &[0xAB]);
        let (parts, notes) = read(&p);
        check_against_sgdisk_values(&parts.unwrap(), &want, Scheme::Gpt);
        let n: Vec<_> = notes.iter().filter(|n| n.offset == 512).collect();
        assert_eq!(n.len(), 1, "{notes:?}");
        assert!(n[0].message.contains("header CRC32 mismatch"), "{}", n[0]);
        assert!(n[0].message.contains("entries' CRC32 holds"), "{}", n[0]);
    }

    #[test]
    fn both_copies_zeroed_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let p = three(dir.path());
        patch(&p, 512, &[0u8; 33 * 512]);
        patch(&p, (64 << 20) - 33 * 512, &[0u8; 33 * 512]);
        let (parts, notes) = read(&p);
        assert!(parts.is_none());
        assert!(notes.is_empty(), "{notes:?}");
        // The protective MBR survives and is no MBR partition either.
        let mut notes = Vec::new();
        assert!(crate::layout::mbr::read(&open(&p), &mut notes).is_none());
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn small_files_are_no_gpt_and_no_notes() {
        let dir = tempfile::tempdir().unwrap();
        for size in [0u64, 100, 600, 1024, 1536, 5000, 16384] {
            let p = dir.path().join(format!("{size}.bin"));
            std::fs::write(&p, vec![0x5Au8; size as usize]).unwrap();
            assert_eq!(read(&p), (None, vec![]), "{size}");
            let mut notes = Vec::new();
            assert!(crate::layout::mbr::read(&open(&p), &mut notes).is_none());
            assert!(notes.is_empty());
        }
    }

    #[test]
    fn both_copies_damaged_is_none_with_notes() {
        let dir = tempfile::tempdir().unwrap();
        let p = three(dir.path());
        // Entries of both copies damaged and both header CRCs broken.
        patch(&p, 1024 + 40, &[0x55]);
        patch(&p, (64 << 20) - 33 * 512 + 40, &[0x55]);
        patch(&p, 512 + 60, &[0xAB]);
        patch(&p, (64 << 20) - 512 + 60, &[0xAB]);
        let (parts, notes) = read(&p);
        assert!(parts.is_none());
        assert!(
            notes
                .iter()
                .any(|n| n.offset == 512 && n.message.contains("no usable backup")),
            "{notes:?}"
        );
    }

    #[test]
    fn truncated_image_clips_and_skips() {
        let dir = tempfile::tempdir().unwrap();
        let p = three(dir.path());
        // Cut at 20 MiB: partition 2 (9..29 MiB) is clipped, 3 is gone, so is the backup.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(20 << 20)
            .unwrap();
        let (parts, notes) = read(&p);
        let parts = parts.unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[1].start, parts[1].len), (9 << 20, 11 << 20));
        assert_eq!(parts[0].scheme, Scheme::Gpt);
        let entry2 = 1024 + 128;
        let entry3 = 1024 + 256;
        assert!(
            notes
                .iter()
                .any(|n| n.offset == entry2 && n.message.contains("clipped")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.offset == entry3 && n.message.contains("skipped")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.structure == "GPT backup header" && n.message.contains("past the end")),
            "{notes:?}"
        );
    }

    /// sgdisk writes 512-byte sectors only; rewrite its table for 4096-byte
    /// sectors (LBAs divided by 8, CRCs recomputed) to test that path.
    #[test]
    fn sector_size_4096() {
        let dir = tempfile::tempdir().unwrap();
        let p = three(dir.path());
        let b = std::fs::read(&p).unwrap();
        let entries_512 = &b[1024..1024 + 128 * 128];
        let mut entries = entries_512.to_vec();
        for e in entries.chunks_mut(128) {
            for f in [32, 40] {
                let v = le_u64(e, f).unwrap();
                let v = if f == 32 { v / 8 } else { (v + 1) / 8 - 1 };
                e[f..f + 8].copy_from_slice(&v.to_le_bytes());
            }
        }
        let last = (64u64 << 20) / 4096 - 1;
        let header = |my: u64, alt: u64, entry_lba: u64| {
            let mut h = b[512..512 + 92].to_vec();
            h[24..32].copy_from_slice(&my.to_le_bytes());
            h[32..40].copy_from_slice(&alt.to_le_bytes());
            h[72..80].copy_from_slice(&entry_lba.to_le_bytes());
            h[88..92].copy_from_slice(&crc32(&entries).to_le_bytes());
            h[16..20].fill(0);
            let c = crc32(&h);
            h[16..20].copy_from_slice(&c.to_le_bytes());
            h
        };
        let q = dir.path().join("4k.img");
        sparse(&q, 64 << 20);
        patch(&q, 0, &b[..512]); // protective MBR
        patch(&q, 4096, &header(1, last, 2));
        patch(&q, 8192, &entries);
        patch(&q, last * 4096, &header(last, 1, last - 4));
        patch(&q, (last - 4) * 4096, &entries);
        let (parts, notes) = read(&q);
        let parts = parts.unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        let want = read(&p).0.unwrap();
        for (a, w) in parts.iter().zip(&want) {
            assert_eq!(a.start, w.start / 8 * 8);
        }
        assert_eq!((parts[0].start, parts[0].len), (1 << 20, 8 << 20));
        assert_eq!((parts[1].start, parts[1].len), (9 << 20, 20 << 20));
        assert_eq!(parts[1].name.as_deref(), Some(LONG_NAME));
        // The primary gone: the 4096-byte backup.
        patch(&q, 4096, &[0u8; 4096]);
        let (parts, notes) = read(&q);
        let parts = parts.unwrap();
        assert_eq!(parts[0].scheme, Scheme::GptBackup);
        assert_eq!(parts[1].start, 9 << 20);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].offset, 4096);
    }

    /// main-ext4-modern, damaged by `damage/<recipe>` if given.
    pub(crate) fn fixture(dir: &Path, recipe: Option<&str>) -> std::path::PathBuf {
        match recipe {
            Some(r) => from_recipe(dir, &format!("damage/{r}")),
            None => decompress(dir, "images/main-ext4-modern.img.zst", &[]),
        }
    }

    /// A committed image with the damage of a recipe (a path under
    /// fixtures/images) applied, as its "base" names it.
    pub(crate) fn from_recipe(dir: &Path, recipe: &str) -> std::path::PathBuf {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images");
        let j: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join(recipe)).unwrap()).unwrap();
        let ops = j["ops"].as_array().unwrap().clone();
        decompress(dir, j["base"].as_str().unwrap(), &ops)
    }

    /// Decompresses `fixtures/<base>` into a sparse file (all-zero 4 KiB
    /// blocks left as holes), applying recipe ops ("zero", "truncate").
    fn decompress(dir: &Path, base: &str, ops: &[serde_json::Value]) -> std::path::PathBuf {
        use std::io::Read;
        use std::os::unix::fs::FileExt;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let z = std::fs::File::open(root.join(base)).unwrap();
        let mut dec = zstd::stream::read::Decoder::new(z).unwrap();
        let p = dir
            .join(Path::new(base).file_name().unwrap())
            .with_extension("");
        let out = std::fs::File::create(&p).unwrap();
        let mut zero = Vec::new();
        let mut cut = u64::MAX;
        for op in ops {
            let len = op["len"].as_u64().unwrap();
            match op["op"].as_str().unwrap() {
                "zero" => zero.push((op["offset"].as_u64().unwrap(), len)),
                "truncate" => cut = cut.min(len),
                o => panic!("recipe op {o}"),
            }
        }
        let mut buf = vec![0u8; 1 << 20];
        let mut pos = 0u64;
        loop {
            let mut n = 0;
            while n < buf.len() {
                match dec.read(&mut buf[n..]).unwrap() {
                    0 => break,
                    k => n += k,
                }
            }
            if n == 0 {
                break;
            }
            let chunk = &mut buf[..n];
            for &(off, len) in &zero {
                let a = off.max(pos);
                let b = (off + len).min(pos + n as u64);
                if a < b {
                    chunk[(a - pos) as usize..(b - pos) as usize].fill(0);
                }
            }
            for (i, block) in chunk.chunks(4096).enumerate() {
                if block.iter().any(|&x| x != 0) {
                    out.write_all_at(block, pos + (i * 4096) as u64).unwrap();
                }
            }
            pos += n as u64;
        }
        out.set_len(pos.min(cut)).unwrap();
        p
    }

    #[test]
    fn fixture_main_ext4_modern() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images");
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join("MANIFEST.json")).unwrap()).unwrap();
        let m = &m["main-ext4-modern"];
        let dir = tempfile::tempdir().unwrap();
        let p = fixture(dir.path(), None);
        let (parts, notes) = read(&p);
        let parts = parts.unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].start, m["partition_offset"].as_u64().unwrap());
        assert_eq!(parts[0].len, m["partition_bytes"].as_u64().unwrap());
        assert_eq!(parts[0].scheme, Scheme::Gpt);
        assert_eq!(parts[0].type_name, "linux");
    }

    #[test]
    fn fixture_gpt_zeroed() {
        let dir = tempfile::tempdir().unwrap();
        let p = fixture(dir.path(), Some("gpt-zeroed.json"));
        let (parts, notes) = read(&p);
        assert!(parts.is_none());
        assert!(notes.is_empty(), "{notes:?}");
        let mut notes = Vec::new();
        assert!(crate::layout::mbr::read(&open(&p), &mut notes).is_none());
        assert_eq!(notes.len(), 1);
        assert!(notes[0].message.contains("protective"), "{}", notes[0]);
    }

    #[test]
    fn fixture_trunc70() {
        let dir = tempfile::tempdir().unwrap();
        let p = fixture(dir.path(), Some("trunc70.json"));
        let (parts, notes) = read(&p);
        let parts = parts.unwrap();
        // The partition (1 MiB, 55574528 bytes) clipped at 40370176.
        assert_eq!(parts.len(), 1);
        assert_eq!(
            (parts[0].start, parts[0].len),
            (1048576, 40370176 - 1048576)
        );
        assert_eq!(parts[0].scheme, Scheme::Gpt);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[0].structure, "GPT backup header");
        assert_eq!(notes[0].offset, 57671680 - 512);
        assert!(notes[0].message.contains("past the end"), "{}", notes[0]);
        assert_eq!(notes[1].structure, "GPT partition entry 1");
        assert!(notes[1].message.contains("clipped"), "{}", notes[1]);
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// A small sgdisk disk (256 KiB): the first 34 and last 33 sectors
        /// are the whole table.
        fn base() -> &'static Vec<u8> {
            static BASE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
            BASE.get_or_init(|| {
                let dir = tempfile::tempdir().unwrap();
                let p = dir.path().join("small.img");
                sparse(&p, 256 << 10);
                run(
                    "sgdisk",
                    &[
                        "-n",
                        "1:40:+64K",
                        "-c",
                        "1:one",
                        "-n",
                        "2:0:0",
                        "-t",
                        "2:8200",
                        p.to_str().unwrap(),
                    ],
                );
                std::fs::read(&p).unwrap()
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn mutated_tables_never_panic(
                edits in proptest::collection::vec((0usize..34 * 512, any::<u8>()), 0..64),
                tail_edits in proptest::collection::vec((0usize..33 * 512, any::<u8>()), 0..16),
                random_sector in proptest::option::of((0usize..34, proptest::collection::vec(any::<u8>(), 512))),
                cut in proptest::option::of(0usize..(256 << 10)),
            ) {
                let mut img = base().clone();
                let n = img.len();
                for (o, v) in edits { img[o] = v; }
                for (o, v) in tail_edits { img[n - 33 * 512 + o] = v; }
                if let Some((s, bytes)) = random_sector {
                    img[s * 512..s * 512 + 512].copy_from_slice(&bytes);
                }
                if let Some(c) = cut { img.truncate(c); }
                let dir = tempfile::tempdir().unwrap();
                let p = dir.path().join("f.img");
                std::fs::write(&p, &img).unwrap();
                let image = open(&p);
                let mut notes = Vec::new();
                let size = image.size();
                for parts in [super::super::read(&image, &mut notes), crate::layout::mbr::read(&image, &mut notes)].into_iter().flatten() {
                    for part in parts {
                        prop_assert!(part.start < size && part.len > 0 && part.start + part.len <= size);
                    }
                }
            }
        }
    }
}
