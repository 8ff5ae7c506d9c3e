#!/bin/sh
# Guest script (busybox sh, cwd = the NFSv4 mount, $NFS_VERS 4.1 or 4.2): what smoke.sh does not
# reach over NFSv4 — POSIX locks between processes (fcntl, in the protocol: no NLM), share
# reservations held by another client, a 10,000-entry listing, and on 4.2 sparse files with
# SEEK_DATA/SEEK_HOLE, fallocate, copy_file_range (server-side COPY) and user.* xattrs.
# /kvmnfs/files/nfs4tool does the system calls busybox cannot (tests/guest/nfs4tool.c).
# The host may prepare before boot (each part is skipped without it): many10000/ (10,000 empty
# files) and many10000.expected (their sorted names); deny/denied-write and deny/denied-read,
# which another client (the host's test) holds open with deny WRITE and deny READ for the run.
# Prints PASS/FAIL lines and ends with "N passed, N failed". Export rw,no_root_squash; runs as root.
MNT=${MNT:-/mnt}
T=/kvmnfs/files/nfs4tool
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "PASS $*"; }
bad()  { fail=$((fail+1)); echo "FAIL $*"; }
check() { d="$1"; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
expect() { d="$1"; want="$2"; shift 2; got=$("$@" 2>&1); if [ "$got" = "$want" ]; then ok "$d"; else bad "$d"; echo "   (want '$want', got '$got')"; fi; }
dropc() { sync; echo 3 > /proc/sys/vm/drop_caches; }
opcount() { awk -v op="$1:" '$1 == op { print $2; exit }' /proc/self/mountstats; }
cd "$MNT" || { echo "FAIL cd"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$T" ] || { echo "FAIL nfs4tool missing"; echo "0 passed, 1 failed"; exit 1; }
echo "== NFS_VERS=$NFS_VERS $(uname -r)"
grep " $MNT " /proc/mounts

# ---- POSIX locks between two processes
rm -rf v4 && mkdir v4 && cd v4 || exit 1
echo data > lk
"$T" lock lk w 0 100 6 > /tmp/holder &
HP=$!
sleep 2
check "a process takes a write lock on [0,100)" grep -q '^ok' /tmp/holder
expect "another's write lock inside it is refused" EAGAIN "$T" lock lk w 50 10
expect "another's read lock on its last byte is refused" EAGAIN "$T" lock lk r 99 1
expect "a read lock just past it is granted" ok "$T" lock lk r 100 10
expect "F_GETLK names the holder's lock" "locked w 0 100" "$T" getlk lk w 0 1
check "a blocking lock waits until the holder lets go" sh -c 'set -- $("$0" lockw lk w 0 10); [ "$1" = ok ] && [ "$2" -ge 1 ]' "$T"
wait $HP
expect "with the holder gone the range is free" unlocked "$T" getlk lk w 0 1000
"$T" lock lk r 0 100 5 > /tmp/reader &
RP=$!
sleep 2
expect "two readers share a read lock" ok "$T" lock lk r 0 100
expect "a writer is refused while a reader holds" EAGAIN "$T" lock lk w 10 1
wait $RP
expect "a lock to the end of the file (length 0)" ok "$T" lock lk w 1000 0
cd "$MNT" || exit 1

# ---- share reservations of another client (the host holds both files open), when prepared
if [ -d deny ]; then
check "a write open of a file another client opened deny-write is refused" sh -c '! (echo x >> deny/denied-write) 2>/dev/null'
check "reading that file works" [ "$(cat deny/denied-write)" = held ]
check "a read open of a file another client opened deny-read is refused" sh -c '! cat deny/denied-read >/dev/null 2>&1'
fi
check "two processes here open one file for reading and writing at once" sh -c 'exec 3< v4/lk; exec 4>> v4/lk; echo more >&4; read -r l <&3; [ "$l" = data ]'

# ---- a 10,000-entry listing, when prepared
if [ -d many10000 ]; then
dropc
ls -1A many10000 | LC_ALL=C sort > /tmp/got
check "listing 10000: exact names" cmp -s many10000.expected /tmp/got
check "listing 10000: count" [ "$(wc -l < /tmp/got)" -eq 10000 ]
dropc
check "listing 10000 with attributes: 10000 regular files" [ "$(ls -lA many10000 | grep -c '^-')" -eq 10000 ]
echo "== READDIR calls so far: $(opcount READDIR)"
fi

if [ "$NFS_VERS" = 4.2 ]; then
  cd v4 || exit 1
  # ---- sparse files and SEEK_DATA / SEEK_HOLE
  printf A > sp
  printf B | dd of=sp bs=1 seek=8388608 conv=notrunc 2>/dev/null
  dropc
  expect "sparse: SEEK_DATA at 0" "ok 0" "$T" seek sp 0 data
  check "sparse: SEEK_HOLE at 0 finds the hole after the first byte" sh -c 'set -- $("$0" seek sp 0 hole); [ "$1" = ok ] && [ "$2" -gt 0 ] && [ "$2" -lt 8388608 ]' "$T"
  expect "sparse: SEEK_DATA from the hole finds the last byte's block" "ok 8388608" "$T" seek sp 4096 data
  expect "sparse: SEEK_HOLE at the last byte is the end of the file" "ok 8388609" "$T" seek sp 8388608 hole
  expect "sparse: SEEK_DATA at the end is ENXIO" ENXIO "$T" seek sp 8388609 data
  seeks=$(opcount SEEK)
  check "the client sent SEEK ($seeks)" [ "${seeks:-0}" -gt 0 ]
  check "sparse: reading across the hole gives zeros" [ "$(dd if=sp bs=4096 skip=1 count=1 2>/dev/null | tr -d '\0' | wc -c)" -eq 0 ]
  # ---- fallocate: allocate and punch
  : > al
  expect "fallocate allocates 1 MiB" ok "$T" alloc al 0 1048576
  check "the allocated file is 1 MiB" [ "$(stat -c %s al)" -eq 1048576 ]
  head -c 65536 /dev/zero | tr '\0' x > pu
  expect "fallocate punches a hole" ok "$T" punch pu 4096 8192
  dropc
  check "the punched range reads zeros" [ "$(dd if=pu bs=4096 skip=1 count=2 2>/dev/null | tr -d '\0' | wc -c)" -eq 0 ]
  check "the rest is untouched and the size kept" sh -c '[ "$(stat -c %s pu)" -eq 65536 ] && [ "$(tr -d x < pu | tr -d "\0" | wc -c)" -eq 0 ] && [ "$(tr -d "\0" < pu | wc -c)" -eq 57344 ]'
  echo "== ALLOCATE $(opcount ALLOCATE) DEALLOCATE $(opcount DEALLOCATE)"
  # ---- copy_file_range: COPY on the server
  head -c 3145728 /dev/urandom > src
  expect "copy_file_range copies 3 MiB" "ok 3145728" "$T" copy src dst 3145728
  dropc
  check "the copy has the source's bytes" [ "$(md5sum < src)" = "$(md5sum < dst)" ]
  copies=$(opcount COPY)
  check "the client sent COPY ($copies)" [ "${copies:-0}" -gt 0 ]
  # ---- user.* extended attributes
  echo x > xf
  expect "setxattr user.comment" ok "$T" xset xf user.comment hello
  expect "getxattr user.comment" "ok hello" "$T" xget xf user.comment
  expect "listxattr lists it" "ok user.comment" "$T" xlist xf
  expect "setxattr create of an existing one is EEXIST" EEXIST "$T" xset xf user.comment again create
  expect "setxattr replace of a missing one is ENODATA" ENODATA "$T" xset xf user.none v replace
  expect "removexattr" ok "$T" xrm xf user.comment
  expect "getxattr after removal is ENODATA" ENODATA "$T" xget xf user.comment
  echo "== GETXATTR $(opcount GETXATTR) SETXATTR $(opcount SETXATTR) LISTXATTRS $(opcount LISTXATTRS) REMOVEXATTR $(opcount REMOVEXATTR) READ_PLUS $(opcount READ_PLUS)"
  cd "$MNT" || exit 1
fi
rm -rf v4
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
