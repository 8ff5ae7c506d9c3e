#!/bin/sh
# Guest script (busybox sh) for an NFSv4 mount (NFS_VERS=4.1): byte-range
# locks between the Linux kernel client and one of our clients on the host
# (kernel-client.test.ts). flock(2) on NFSv4 is a whole-file POSIX lock on
# the server. The host holds an exclusive lock on locked.bin when this
# starts; the two sides meet through files in the export:
#   guest-denied  the guest's non-blocking lock was refused
#   guest-holds   the guest got the lock (after the host unlocked) and holds it
#   host-denied   the host's lock was refused meanwhile: the guest may let go
# Prints PASS/FAIL lines, ends "N passed, N failed".
MNT=${MNT:-/mnt}
F=$MNT/locked.bin
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "PASS $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }

if flock -n -x "$F" true; then bad "a lock on a file our client holds locked is refused"; else ok "a lock on a file our client holds locked is refused"; fi
touch "$MNT/guest-denied"
# Blocks until the host unlocks (the kernel polls the server), then holds it until the host was refused.
if flock -x "$F" sh -c "touch $MNT/guest-holds; n=0; while [ ! -e $MNT/host-denied ] && [ \$n -lt 600 ]; do sleep 0.2; n=\$((n+1)); done; [ -e $MNT/host-denied ]"; then
  ok "granted once our client unlocked, and held while our client was refused"
else
  bad "granted once our client unlocked, and held while our client was refused"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
