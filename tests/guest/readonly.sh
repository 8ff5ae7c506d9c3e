#!/bin/sh
# Guest script (busybox sh, cwd = the NFS mount), export ro,no_root_squash.
# The client mounts read-write, so every write reaches the server, which must
# refuse it with NFS3ERR_ROFS (EROFS in the guest). Writes into an existing
# file are stopped earlier by ACCESS (no MODIFY bit), giving EACCES or EROFS.
# The host prepared, before boot:
#   data.txt      "read-only data" (mode 0644)
#   sub/inner.txt "inner"
#   link -> data.txt
# Prints PASS/FAIL lines and ends with "N passed, N failed".
MNT=${MNT:-/mnt}
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "PASS $*"; }
bad()  { fail=$((fail+1)); echo "FAIL $*"; }
check() { d="$1"; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
dropc() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# fails, and its error message says "Read-only file system"
erofs() { out=$(sh -c "$1" 2>&1); rc=$?; [ $rc -ne 0 ] && echo "$out" | grep -q 'Read-only file system' || { echo "   (rc=$rc: $out)"; return 1; }; }
# fails with EROFS or EACCES
denied() { out=$(sh -c "$1" 2>&1); rc=$?; [ $rc -ne 0 ] && echo "$out" | grep -q -e 'Read-only file system' -e 'Permission denied' || { echo "   (rc=$rc: $out)"; return 1; }; }
cd "$MNT" || { echo "FAIL cd"; echo "0 passed, 1 failed"; exit 1; }

dropc
check "read a file" [ "$(cat data.txt)" = "read-only data" ]
check "read a file in a subdir" [ "$(cat sub/inner.txt)" = inner ]
check "readlink" [ "$(readlink link)" = data.txt ]
check "read through symlink" [ "$(cat link)" = "read-only data" ]
check "ls" sh -c '[ "$(ls | tr "\n" " ")" = "data.txt link sub " ]'
check "stat" [ "$(stat -c %s data.txt)" -eq 14 ]
check "df" sh -c 'df -k . | tail -1 | grep -q .'
check "create: EROFS" erofs ': > newfile'
check "mkdir: EROFS" erofs 'mkdir newdir'
check "symlink: EROFS" erofs 'ln -s data.txt newlink'
check "hard link: EROFS" erofs 'ln data.txt newhard'
check "mkfifo: EROFS" erofs 'mkfifo newfifo'
check "rm: EROFS" erofs 'rm -f data.txt'
check "rmdir: EROFS" erofs 'rm -f sub/inner.txt; rmdir sub'
check "rename: EROFS" erofs 'mv data.txt moved.txt'
check "chmod: EROFS" erofs 'chmod 600 data.txt'
check "chown: EROFS" erofs 'chown 1000 data.txt'
check "touch (utimes): EROFS" erofs 'touch -d "2001-01-01 00:00:00" data.txt'
check "append to existing file: refused" denied 'echo x >> data.txt'
check "truncate existing file: refused" denied 'truncate -s 0 data.txt'
check "dd overwrite existing file: refused" denied 'echo x | dd of=data.txt conv=notrunc 2>&1'
dropc
check "nothing changed: data" [ "$(cat data.txt)" = "read-only data" ]
check "nothing changed: names" sh -c '[ "$(ls -A | tr "\n" " ")" = "data.txt link sub " ] && [ -f sub/inner.txt ]'
check "nothing changed: mode" [ "$(stat -c %a data.txt)" = 644 ]
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
