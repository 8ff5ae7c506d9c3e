#!/bin/sh
# Guest script (busybox sh) for an NFSv4 mount (NFS_VERS=4.1): byte-range
# locks between the Linux kernel client and one of our clients on the host
# (kernel-client.test.ts), through fcntl (/kvmnfs/files/nfs4tool, built
# static from tests/guest/nfs4tool.c: busybox has no flock here). The host
# holds an exclusive lock on all of locked.bin when this starts; the two
# sides meet through files in the export:
#   guest-denied  the guest's non-blocking lock was refused
#   guest-holds   the guest got the lock (after the host unlocked) and holds it
#   host-denied   the host's lock was refused meanwhile: the guest may let go
# Prints PASS/FAIL lines, ends "N passed, N failed".
MNT=${MNT:-/mnt}
F=$MNT/locked.bin
T=/kvmnfs/files/nfs4tool
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "PASS $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
[ -x "$T" ] || { echo "FAIL nfs4tool missing"; echo "0 passed, 1 failed"; exit 1; }

r=$($T lock "$F" w 0 0)
if [ "$r" = EAGAIN ]; then ok "a write lock on a file our client holds locked is refused"; else bad "a write lock on a file our client holds locked is refused (got $r)"; fi
r=$($T lock "$F" r 10 10)
if [ "$r" = EAGAIN ]; then ok "so is a read lock on part of it"; else bad "so is a read lock on part of it (got $r)"; fi
touch "$MNT/guest-denied"
# Blocks until the host unlocks (the kernel polls the server), then holds it until the host was refused.
$T lockw "$F" w 0 0 "$MNT/host-denied" > /tmp/lockw.out &
LW=$!
n=0
while ! grep -q '^ok' /tmp/lockw.out 2>/dev/null && [ $n -lt 600 ] && kill -0 $LW 2>/dev/null; do sleep 0.1; n=$((n+1)); done
if grep -q '^ok' /tmp/lockw.out; then ok "granted once our client unlocked"; touch "$MNT/guest-holds"; else bad "granted once our client unlocked (got $(cat /tmp/lockw.out))"; fi
wait $LW
rc=$?
if [ $rc -eq 0 ]; then ok "held while our client was refused, then let go"; else bad "held while our client was refused (lockw exit $rc: $(cat /tmp/lockw.out))"; fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
