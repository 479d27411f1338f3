#!/usr/bin/env bash
# Runs the whole test suite. First installs, from the distribution's
# packages, every tool the tests run that is missing (one apt-get update and
# one apt-get install, nothing when all are there), so it works on a fresh
# Debian machine. The tests read ../shared/corpus and fixtures/; a missing
# tool or file fails a test loudly, it is never skipped.
#
#   tool                     package          used by
#   zstd                     zstd             fixture images (*.img.zst)
#   mariadbd, install-db     mariadb-server   servers started by scripts/fixtures/*.py
#   mariadb                  mariadb-client   loading and dumping through those servers
#   python3                  python3          scripts/fixtures/load_check.py, workload.py
#   mke2fs, debugfs          e2fsprogs        ext4 images made and read back at test time
#   mkfs.xfs, xfs_db         xfsprogs         XFS images made and read back at test time
#   sgdisk                   gdisk            GPT partition tables
#   sfdisk                   fdisk            MBR partition tables
#   qemu-img                 qemu-utils       qcow2 images
#   chromium                 chromium         report.html loaded headless (report_html tests)
#   fincore                  util-linux       CSV output dropped from the page cache (memory tests)
set -euo pipefail
cd "$(dirname "$0")/.."

# The filesystem tools live in sbin, which a non-login shell may not have.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

need=()
want() { # want TOOL PACKAGE: add PACKAGE when TOOL is not on the PATH
  command -v "$1" >/dev/null 2>&1 || need+=("$2")
}
want zstd zstd
want mariadbd mariadb-server
want mariadb-install-db mariadb-server
want mariadb mariadb-client
want python3 python3
want mke2fs e2fsprogs
want debugfs e2fsprogs
want mkfs.xfs xfsprogs
want xfs_db xfsprogs
want sgdisk gdisk
want sfdisk fdisk
want qemu-img qemu-utils
want chromium chromium
want fincore util-linux

if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  echo "installing: ${need[*]}" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cargo test --release "$@"
