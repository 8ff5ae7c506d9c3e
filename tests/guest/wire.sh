#!/bin/sh
# Guest script (busybox sh, cwd = the NFS mount), short, for the tshark
# capture (tshark.test.ts): makes the kernel send most NFSv3 procedures once
# or a few times, so the capture holds a call and reply of each to decode.
# Export rw,no_root_squash. Prints PASS/FAIL lines, ends "N passed, N failed".
MNT=${MNT:-/mnt}
D=$MNT/wire
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "PASS $*"; }
bad()  { fail=$((fail+1)); echo "FAIL $*"; }
check() { d="$1"; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
dropc() { sync; echo 3 > /proc/sys/vm/drop_caches; }

rm -rf "$D" 2>/dev/null
check "MKDIR" mkdir "$D"
cd "$D" || { echo "FAIL cd"; echo "$pass passed, $((fail+1)) failed"; exit 1; }
dd if=/dev/urandom of=/tmp/src bs=64k count=48 2>/dev/null
check "CREATE + WRITE + COMMIT (3 MiB, fsync)" dd if=/tmp/src of=data bs=64k conv=fsync 2>/dev/null
dropc
check "READ back" cmp /tmp/src data
check "SETATTR mode" sh -c 'chmod 600 data && [ "$(stat -c %a data)" = 600 ]'
check "SETATTR size" sh -c 'truncate -s 1000 data && [ "$(stat -c %s data)" -eq 1000 ]'
check "SETATTR times" touch -d "2001-02-03 04:05:06" data
check "SYMLINK" ln -s data sl
check "READLINK" [ "$(readlink sl)" = data ]
check "LINK" ln data hard
check "MKNOD fifo" mkfifo fifo
check "MKNOD chr" mknod chr c 1 3
check "RENAME" mv hard renamed
dropc
check "READDIRPLUS" [ "$(ls -l | grep -c .)" -ge 6 ]
check "LOOKUP miss" [ ! -e nothing-here ]
check "FSSTAT" sh -c 'df -k . | tail -1 | grep -q .'
check "REMOVE" rm sl renamed fifo chr data
cd "$MNT"
check "RMDIR" rmdir "$D"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
