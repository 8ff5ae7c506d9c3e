#!/bin/sh
# Guest script (busybox sh, cwd = the NFS mount), export rw,root_squash
# (anonuid/anongid 65534). Runs as root, so every request of root reaches the
# server as 65534:65534. The host prepared, before boot (owner 0:0):
#   $MNT/         mode 0777   (so the squashed root can create here)
#   secret        mode 0600   "root only"
#   public.txt    mode 0644   "for everyone"
#   rootdir/      mode 0755   (root-owned: squashed root may not create in it)
# uid 1000 and 1001 (the guest's u1000, u1001) are not squashed and keep each other's permissions.
# Prints PASS/FAIL lines and ends with "N passed, N failed".
MNT=${MNT:-/mnt}
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "PASS $*"; }
bad()  { fail=$((fail+1)); echo "FAIL $*"; }
check() { d="$1"; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
dropc() { sync; echo 3 > /proc/sys/vm/drop_caches; }
cd "$MNT" || { echo "FAIL cd"; echo "0 passed, 1 failed"; exit 1; }

check "guest runs as root" [ "$(id -u)" = 0 ]
check "root create succeeds in a 0777 dir" sh -c 'echo by-root > r.txt'
check "root's new file is owned by 65534:65534" [ "$(stat -c %u:%g r.txt)" = 65534:65534 ]
check "root's mkdir is owned by 65534:65534" sh -c 'mkdir rd && [ "$(stat -c %u:%g rd)" = 65534:65534 ]'
check "root's symlink is owned by 65534:65534" sh -c 'ln -s r.txt rl && [ "$(stat -c %u:%g rl)" = 65534:65534 ]'
check "root reads a 0644 root file" [ "$(cat public.txt)" = "for everyone" ]
check "root cannot read a 0600 root file (squashed)" sh -c '! cat secret >/dev/null 2>&1'
check "root cannot append to a 0644 root file" sh -c '! (echo x >> public.txt) 2>/dev/null && [ "$(cat public.txt)" = "for everyone" ]'
check "root cannot create in a root-owned 0755 dir" sh -c '! (: > rootdir/nope) 2>/dev/null && [ ! -e rootdir/nope ]'
check "root cannot chmod a root file" sh -c '! chmod 666 secret 2>/dev/null && [ "$(stat -c %a secret)" = 600 ]'
check "root cannot chown its own file to 0" sh -c '! chown 0:0 r.txt 2>/dev/null && [ "$(stat -c %u r.txt)" = 65534 ]'
check "root can remove its own file" sh -c 'echo y > tmpdel && rm tmpdel && [ ! -e tmpdel ]'
check "uid 1000 is not squashed: owner 1000" sh -c 'su u1000 -s /bin/sh -c "echo u > u.txt" && [ "$(stat -c %u:%g u.txt)" = 1000:1000 ]'
check "uid 1000 cannot read the 0600 root file" sh -c '! su u1000 -s /bin/sh -c "cat secret" >/dev/null 2>&1'
check "uid 1001 is not squashed either: owner 1001" sh -c 'su u1001 -s /bin/sh -c "echo v > v.txt" && [ "$(stat -c %u:%g v.txt)" = 1001:1001 ]'
check "uid 1001 cannot write uid 1000's 0644 file" sh -c '! su u1001 -s /bin/sh -c "echo w >> u.txt" 2>/dev/null && [ "$(cat u.txt)" = u ]'
check "uid 1000 reads uid 1001's 0644 file" [ "$(su u1000 -s /bin/sh -c "cat v.txt")" = v ]
dropc
check "after drop_caches: owners still 65534 / 1000" sh -c '[ "$(stat -c %u r.txt)" = 65534 ] && [ "$(stat -c %u u.txt)" = 1000 ]'
check "root cannot read the 0600 file after drop_caches either" sh -c '! cat secret >/dev/null 2>&1'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
