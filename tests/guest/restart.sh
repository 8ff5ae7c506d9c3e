#!/bin/sh
# Guest script (busybox sh, cwd = the NFS mount), export rw,no_root_squash:
# file handles must survive server restarts while the client keeps the
# export mounted, open files and a cwd inside it.
#
# Handshake with the host (kernel-client.test.ts), through marker files in
# the export root:
#   guest creates guest-ready-1  -> host stops the server (SIGTERM), starts it
#                                   again on the same port with the same state
#                                   dir, then creates host-restarted-1
#   guest creates guest-ready-2  -> host kills the server (SIGKILL), starts it
#                                   again, creates host-restarted-2
# While the server is down the guest's requests just wait (hard mount).
# After each restart the guest uses handles it obtained before: an fd open
# for reading, an fd open for appending, its cwd, a symlink, the mount root.
# Leaves $MNT/rst/ for the host's checks.
# Prints PASS/FAIL lines and ends with "N passed, N failed".
MNT=${MNT:-/mnt}
D=$MNT/rst
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "PASS $*"; }
bad()  { fail=$((fail+1)); echo "FAIL $*"; }
check() { d="$1"; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
dropc() { sync; echo 3 > /proc/sys/vm/drop_caches; }
up() { cut -d' ' -f1 /proc/uptime; }
# Wait for a marker the host creates (safety limit ~5 min; the host is quick).
# Dropping dentries each round makes the kernel ask the server (LOOKUP)
# instead of trusting a cached negative entry.
wait_marker() {
  i=0
  while [ $i -lt 3000 ]; do
    echo 2 > /proc/sys/vm/drop_caches
    [ -e "$MNT/$1" ] && return 0
    sleep 0.1; i=$((i+1))
  done
  return 1
}

rm -rf "$D" "$MNT"/guest-ready-* 2>/dev/null
mkdir -p "$D/d1/d2" || { echo "FAIL setup"; echo "0 passed, 1 failed"; exit 1; }
printf 'line1\nline2\nline3\n' > "$D/d1/d2/f.txt"
echo before > "$D/d1/d2/w.txt"
ln -s d2/f.txt "$D/d1/sl"
sync
exec 3< "$D/d1/d2/f.txt"
read -r l1 <&3
exec 5>> "$D/d1/d2/w.txt"
cd "$D/d1" || bad "cd d1"
check "before restart: read first line" [ "$l1" = line1 ]

# ---------------------------------------------------------------- restart 1 (SIGTERM)
: > "$MNT/guest-ready-1"
t=$(up)
check "restart 1: marker from the host seen" wait_marker host-restarted-1
echo "== restart 1 took $(awk -v a=$t -v b=$(up) 'BEGIN{print b-a}')s as seen by the guest"
dropc
read -r l2 <&3
check "restart 1: read on an fd opened before (old handle)" [ "$l2" = line2 ]
echo after1 >&5
check "restart 1: fsync of an fd opened before" sync
check "restart 1: old cwd handle: lookup + read" [ "$(head -1 d2/f.txt)" = line1 ]
check "restart 1: old symlink handle: readlink" [ "$(readlink sl)" = d2/f.txt ]
check "restart 1: read through the symlink" [ "$(head -1 sl)" = line1 ]
check "restart 1: create in the old cwd" sh -c 'echo new1 > made-after-1 && [ "$(cat made-after-1)" = new1 ]'
check "restart 1: readdir of the old cwd" [ "$(ls | tr '\n' ' ')" = "d2 made-after-1 sl " ]
check "restart 1: stat of the mount root" [ -d "$MNT/rst" ]
check "restart 1: rename + remove" sh -c 'mv made-after-1 renamed-1 && rm renamed-1 && [ ! -e renamed-1 ]'

# objects created after the first restart, known only to that server process
mkdir fresh && echo fresh > fresh/g.txt && printf 'a\nb\n' > fresh/h.txt
sync
exec 4< fresh/h.txt
read -r h1 <&4
cd fresh || bad "cd fresh"

# ---------------------------------------------------------------- restart 2 (SIGKILL)
: > "$MNT/guest-ready-2"
t=$(up)
check "restart 2: marker from the host seen" wait_marker host-restarted-2
echo "== restart 2 took $(awk -v a=$t -v b=$(up) 'BEGIN{print b-a}')s as seen by the guest"
dropc
read -r h2 <&4
check "restart 2: read on an fd opened after restart 1" [ "$h1$h2" = ab ]
read -r l3 <&3
check "restart 2: read on the fd opened before restart 1" [ "$l3" = line3 ]
echo after2 >&5
exec 5>&-
exec 3<&- 4<&-
check "restart 2: old cwd (made after restart 1): read" [ "$(cat g.txt)" = fresh ]
check "restart 2: old cwd: create" sh -c 'echo new2 > made-after-2 && [ "$(cat made-after-2)" = new2 ]'
check "restart 2: parent lookup (..)" [ "$(head -1 ../d2/f.txt)" = line1 ]
dropc
check "restart 2: appends through the old fd all arrived" [ "$(cat "$D/d1/d2/w.txt" | tr '\n' ' ')" = "before after1 after2 " ]
check "restart 2: ls -lR of the whole tree" [ "$(ls -lR "$D" | grep -c '^[-dl]')" -eq 9 ]
cd "$MNT"
rm -f "$MNT"/guest-ready-* "$MNT"/host-restarted-*
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
