#!/usr/bin/env bash
# Builds every fixture under fixtures/ from a real MariaDB server, real ext4/XFS images and
# scripted damage. Re-runnable, deterministic content (fixed seeds); see fixtures/README.md.
#
#   scripts/make-fixtures.sh                  # everything (about 3 minutes on 2 cores)
#   scripts/make-fixtures.sh instances        # only the MariaDB instances and their truth
#   scripts/make-fixtures.sh edges            # only the `edges` instance (temporal boundary
#                                             # values in every row format; scripts/fixtures/edges.py)
#   scripts/make-fixtures.sh crash-update     # only the `crash-update` instance (older row versions
#                                             # in the data files, the rest in ib_logfile0;
#                                             # scripts/fixtures/crash_update.py)
#   scripts/make-fixtures.sh images           # only images (needs a previous 'instances' run
#                                             # with the same WORKDIR)
#   scripts/make-fixtures.sh fsimages         # only main-ext4-2018, main-ext4-fragmented, main-xfs
#                                             # and images/fsdamage/, from the committed
#                                             # fixtures/main/datadir.tar.zst (no MariaDB needed)
#   WORKDIR=/tmp/x scripts/make-fixtures.sh   # keep the work directory (raw images) there
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FX="$ROOT/fixtures"
HERE="$ROOT/scripts/fixtures"
WORKDIR="${WORKDIR:-/tmp/salvage-fixtures}"
what="${1:-all}"

need() { command -v "$1" >/dev/null 2>&1 || PKGS="$PKGS $2"; }
PKGS=""
export PATH="$PATH:/usr/sbin:/sbin"
if [ "$what" != fsimages ]; then
  need mariadbd mariadb-server
  need mariadb mariadb-client
  need mariadb-install-db mariadb-server
fi
need mkfs.xfs xfsprogs
need xfs_db xfsprogs
need xfs_repair xfsprogs
need sgdisk gdisk
need mke2fs e2fsprogs
need debugfs e2fsprogs
need dumpe2fs e2fsprogs
need e2fsck e2fsprogs
need zstd zstd
need tar tar
need python3 python3
if [ -n "$PKGS" ]; then
  echo "installing:$PKGS" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q $PKGS
fi

mkdir -p "$WORKDIR" "$FX"
start=$(date +%s)
if [ "$what" = all ] || [ "$what" = instances ]; then
  python3 "$HERE/instances.py" "$WORKDIR" "$FX"
fi
if [ "$what" = all ] || [ "$what" = edges ]; then
  python3 "$HERE/edges.py" "$WORKDIR" "$FX"
fi
if [ "$what" = all ] || [ "$what" = crash-update ]; then
  python3 "$HERE/crash_update.py" "$WORKDIR" "$FX"
fi
if [ "$what" = all ] || [ "$what" = images ]; then
  python3 "$HERE/images.py" "$WORKDIR" "$FX"
fi
if [ "$what" = fsimages ]; then
  python3 "$HERE/images.py" "$WORKDIR" "$FX" fs
fi
python3 "$HERE/inventory.py" "$FX"
du -sh "$FX"
echo "fixtures built in $(( $(date +%s) - start )) s; work files in $WORKDIR" >&2
