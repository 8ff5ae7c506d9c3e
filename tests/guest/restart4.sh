#!/bin/sh
# Guest script (busybox sh, cwd = the NFSv4 mount) for kernel-nfs4-restart.test.ts: one process
# writes a file through one descriptor with a write lock on all of it, across two server
# restarts — kill -9, then SIGTERM — on the same port and state directory. Each time it wrote and
# sent (UNSTABLE, no COMMIT) a block after its last fsync; after the restart it goes on writing
# through the same descriptor (the kernel reclaims its open and lock in the grace period), and a
# second process, on a second mount of the same export (nosharecache: its own inode, so the
# kernel cannot answer from its local lock table — the LOCK goes to the server, which the
# mount's LOCK count shows), is refused a conflicting lock.
#
# Markers in $MNT/g (the host's side):
#   ready-N       the writer wrote and sent block 2N-1 after an fsync: kill the server
#   restarted-N   the host started the server again
#   checked-N     the second process was refused after restart N: the host reads the status
#   host-saw-N    the host has: the writer may go on
# Prints PASS/FAIL lines, ends "N passed, N failed". The host compares the file with its blocks.
MNT=${MNT:-/mnt}
D=$MNT/g
M2=/mnt2
T=/kvmnfs/files/nfs4tool
BS=${BS:-1048576}
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "PASS $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
finish() { echo "$pass passed, $fail failed"; [ $fail -eq 0 ]; exit $?; }
[ -x "$T" ] || { bad "nfs4tool missing"; finish; }

# LOCK operations the second mount has sent (its own line in /proc/self/mountstats).
lockops() { awk -v m="$M2" '$1 == "device" { cur = ($5 == m) } cur && $1 == "LOCK:" { print $2; exit }' /proc/self/mountstats; }
# Wait for a guest-local marker while the writer lives (300 s at most).
wait_local() {
  i=0
  while [ ! -e "$1" ] && [ $i -lt 3000 ]; do
    kill -0 $W 2>/dev/null || return 1
    sleep 0.1; i=$((i+1))
  done
  [ -e "$1" ]
}

rm -rf "$D" && mkdir -p "$D" || { bad "setup"; finish; }
mkdir -p $M2
if mount -t nfs -o "vers=$NFS_VERS,proto=tcp,port=$NFS_PORT,addr=$NFS_SERVER,clientaddr=10.0.2.15,nosharecache" "$NFS_SERVER:$EXPORT" $M2 2>/tmp/m2.err; then
  ok "a second mount of the export (nosharecache)"
else
  bad "a second mount of the export: $(cat /tmp/m2.err)"; finish
fi

$T run "$D/data.bin" > /tmp/w.out 2>&1 <<EOF &
write 0 $BS
fsync
lock w 0 0
write 1 $BS
flush
touch $D/ready-1
wait $D/restarted-1
write 2 $BS
touch /tmp/wrote-2
wait /tmp/checked-1
fsync
write 3 $BS
flush
touch $D/ready-2
wait $D/restarted-2
write 4 $BS
touch /tmp/wrote-4
wait /tmp/checked-2
close
EOF
W=$!

for n in 1 2; do
  blk=$((n * 2))
  if wait_local /tmp/wrote-$blk; then ok "restart $n: the writer went on writing through its descriptor (block $blk)"; else bad "restart $n: the writer went on writing (block $blk): $(cat /tmp/w.out)"; break; fi
  before=$(lockops)
  r=$($T lock "$M2/g/data.bin" w 0 1)
  after=$(lockops)
  if [ "$r" = EAGAIN ]; then ok "restart $n: another process's write lock is refused: the lock is still the writer's"; else bad "restart $n: another process's write lock is refused (got $r)"; fi
  if [ "${after:-0}" -gt "${before:-0}" ]; then ok "restart $n: that refusal came from the server (LOCK $before -> $after)"; else bad "restart $n: that refusal came from the server (LOCK $before -> $after)"; fi
  r=$($T lock "$M2/g/data.bin" r $((BS * 3)) 10)
  if [ "$r" = EAGAIN ]; then ok "restart $n: so is a read lock past what was written before"; else bad "restart $n: so is a read lock past what was written before (got $r)"; fi
  touch "$D/checked-$n"
  [ "$($T wait "$D/host-saw-$n")" = ok ] || bad "restart $n: the host looked at the server's state"
  touch /tmp/checked-$n
done

wait $W
rc=$?
if [ $rc -eq 0 ] && [ "$(tail -1 /tmp/w.out)" = "ok close" ]; then ok "the writer closed its file without an error"; else bad "the writer ended with $rc: $(cat /tmp/w.out)"; fi
r=$($T lock "$M2/g/data.bin" w 0 0)
if [ "$r" = ok ]; then ok "once it closed, the second process gets the lock"; else bad "once it closed, the second process gets the lock (got $r)"; fi
sync; echo 3 > /proc/sys/vm/drop_caches
sz=$(stat -c %s "$M2/g/data.bin")
if [ "$sz" = $((BS * 5)) ]; then ok "five blocks written ($sz bytes)"; else bad "five blocks written (size $sz)"; fi
umount $M2 || bad "umount of the second mount"
finish
