#!/bin/sh
# Guest script (busybox sh, cwd = the NFS mount): what the server's storage
# layer must get right that smoke.sh and semantics.sh do not reach.
# Export: rw,no_root_squash; runs as root; u1000 and u1001 exist.
#  - a tree deeper than PATH_MAX (5,000+ bytes below the mount): created,
#    listed, every kind of change at the bottom, renamed at the top, removed;
#  - set-id bits dropped as the Linux VFS drops them for an unprivileged caller;
#  - symlink targets longer than 1,024 bytes, up to 4,095.
# Prints PASS/FAIL lines and ends with "N passed, N failed".
MNT=${MNT:-/mnt}
D=$MNT/stor
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "PASS $*"; }
bad()  { fail=$((fail+1)); echo "FAIL $*"; }
check() { d="$1"; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
dropc() { sync; echo 3 > /proc/sys/vm/drop_caches; }
mode() { stat -c %a "$1"; }
as() { u=$1; shift; su "$u" -s /bin/sh -c "$*"; }

rm -rf "$D" 2>/dev/null
mkdir "$D" && chmod 755 "$D" && cd "$D" || { echo "FAIL setup: mkdir/cd $D"; echo "0 passed, 1 failed"; exit 1; }

# ---- a tree deeper than PATH_MAX: 26 levels of 200-byte names (5,226 bytes) ----
N=$(printf '%200s' | tr ' ' n)
LEVELS=26
down() { i=0; while [ $i -lt $LEVELS ]; do cd -P "$N" || return 1; i=$((i+1)); done; }
mkdir deep && cd -P deep || bad "deep: mkdir top"
i=0; made=1
while [ $i -lt $LEVELS ]; do mkdir "$N" && cd -P "$N" || { made=0; break; }; i=$((i+1)); done
check "deep: mkdir and cd 26 levels (5,226 bytes below the top)" [ $made -eq 1 ]
echo bottom > f
check "deep: create and write a file at the bottom" [ "$(cat f)" = bottom ]
check "deep: chmod" sh -c 'chmod 640 f && [ "$(stat -c %a f)" = 640 ]'
check "deep: chown" sh -c 'chown 1000:1001 f && [ "$(stat -c %u:%g f)" = 1000:1001 ]'
check "deep: truncate" sh -c 'truncate -s 3 f && [ "$(stat -c %s f)" = 3 ]'
check "deep: hard link" sh -c 'ln f f2 && [ "$(stat -c %h f)" = 2 ]'
check "deep: mkdir" mkdir sub
check "deep: mkfifo" sh -c 'mkfifo fifo && [ -p fifo ]'
check "deep: mknod (character device)" sh -c 'mknod chr c 1 3 && [ -c chr ]'
check "deep: symlink" sh -c 'ln -s f sl && [ "$(readlink sl)" = f ]'
check "deep: rename" sh -c 'mv f2 f3 && [ -f f3 ] && [ ! -e f2 ]'
check "deep: unlink" sh -c 'rm f3 && [ ! -e f3 ]'
check "deep: rmdir" sh -c 'rmdir sub && [ ! -e sub ]'
cd "$D" || bad "deep: back to the top"
dropc
# a subshell walks down from the top named $1 and looks at the bottom
bottom_is() { ( cd -P "$1" && down && [ "$(cat f)" = bot ] && [ "$(ls | sort | tr '\n' ' ')" = "chr f fifo sl " ] ); }
check "deep: the bottom is reached again after drop_caches (LOOKUP of every level)" bottom_is deep
check "deep: rename the top directory" mv deep deep2
dropc
check "deep: the bottom under the renamed top" bottom_is deep2
# remove it level by level from the bottom (rm -r would need paths longer than PATH_MAX here;
# and busybox cd builds a path from $PWD unless -P)
cd -P deep2 && down && rm -f f sl fifo chr
gone=1
i=0; while [ $i -lt $LEVELS ]; do cd -P .. && rmdir "$N" || { gone=0; break; }; i=$((i+1)); done
cd "$D" && rmdir deep2 || gone=0
check "deep: removed level by level" [ $gone -eq 1 ]
check "deep: nothing left" [ -z "$(ls -A "$D")" ]

# ---- set-id bits, as the Linux VFS drops them for an unprivileged caller ----
for m in 4777 2777 6777; do
  echo data > "w$m"; chmod "$m" "w$m"
  as u1001 "echo more >> $D/w$m"
  check "setid: write by a non-owner to a $m file leaves 777" [ "$(mode "w$m")" = 777 ]
done
echo data > wown; chown 1000:1000 wown; chmod 4755 wown
as u1000 "echo more >> $D/wown"
check "setid: a write by the owner drops S_ISUID too (no CAP_FSETID)" [ "$(mode wown)" = 755 ]
echo data > wroot; chmod 6777 wroot; echo more >> wroot
check "setid: a write by root keeps them" [ "$(mode wroot)" = 6777 ]
echo data > tr; chmod 6777 tr
as u1001 "truncate -s 1 $D/tr"
check "setid: truncate by a non-owner drops them" [ "$(mode tr)" = 777 ]
echo data > cg; chown 1000:0 cg; chmod 755 cg
as u1000 "chmod 2755 $D/cg"
check "setid: chmod 2755 by the owner outside the file's group gives 755" [ "$(mode cg)" = 755 ]
as u1000 "chmod 4755 $D/cg"
check "setid: chmod 4755 by the owner keeps S_ISUID" [ "$(mode cg)" = 4755 ]
chown 1000:1000 cg; chmod 2755 cg
check "setid: ... and S_ISGID when in the group" [ "$(mode cg)" = 2755 ]
echo data > co; chmod 6755 co; chown 1000 co
check "setid: chown drops S_ISUID and S_ISGID (group-execute)" [ "$(mode co)" = 755 ]
mkdir sg; chown 0:0 sg; chmod 2777 sg
as u1000 "mkdir $D/sg/d; echo x > $D/sg/f"
check "setid: a directory made in a set-group-ID directory inherits its group and S_ISGID" sh -c '[ "$(stat -c %g sg/d)" = 0 ] && [ "$(stat -c %a sg/d | cut -c1)" = 2 ]'
check "setid: a file made there gets the directory's group" [ "$(stat -c %g sg/f)" = 0 ]
dropc
check "setid: after drop_caches the server still says 777 for the written files" sh -c '[ "$(stat -c %a w4777 w2777 w6777 | sort -u)" = 777 ]'

# ---- symlink targets longer than 1,024 bytes ----
for n in 1100 4095; do
  t=$(printf "%${n}s" | tr ' ' t)
  check "symlink: a $n-byte target is made" ln -s "$t" "l$n"
  dropc
  check "symlink: readlink returns all $n bytes" [ "$(readlink "l$n")" = "$t" ]
done
t=$(printf '%4096s' | tr ' ' t)
check "symlink: a 4,096-byte target is refused (ENAMETOOLONG)" sh -c '! ln -s "$1" l4096 2>/dev/null && [ ! -L l4096 ]' sh "$t"

cd "$MNT"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
