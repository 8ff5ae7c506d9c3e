#!/bin/sh
# Guest script (busybox sh, cwd = the NFS mount): file-system semantics that
# kvmnfs smoke.sh does not cover. Export: rw,no_root_squash; runs as root.
# The host prepared $MNT/many2000/ (2000 entries) and $MNT/many2000.expected
# (their names, sorted, one per line) before boot.
# Prints PASS/FAIL lines and ends with "N passed, N failed".
# Leaves $MNT/sem/ for the host's checks (see kernel-client.test.ts).
MNT=${MNT:-/mnt}
D=$MNT/sem
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "PASS $*"; }
bad()  { fail=$((fail+1)); echo "FAIL $*"; }
check() { d="$1"; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
dropc() { sync; echo 3 > /proc/sys/vm/drop_caches; }
ZERO64K=$(head -c 65536 /dev/zero | md5sum | cut -d' ' -f1)

rm -rf "$D" 2>/dev/null
mkdir "$D" && cd "$D" || { echo "FAIL setup: mkdir/cd $D"; echo "0 passed, 1 failed"; exit 1; }

# ---- readdir of 2000 entries after drop_caches, exact names
dropc
ls -1A "$MNT/many2000" | LC_ALL=C sort > /tmp/got
check "readdir 2000: exact names" cmp -s "$MNT/many2000.expected" /tmp/got
check "readdir 2000: count" [ "$(wc -l < /tmp/got)" -eq 2000 ]
check "readdir 2000: no duplicates (ls -a)" sh -c '[ -z "$(ls -1a "$MNT/many2000" | sort | uniq -d)" ]'
check "readdir 2000: . and .. listed once" sh -c '[ "$(ls -1a "$MNT/many2000" | grep -c "^\.\.\{0,1\}$")" -eq 2 ]'
dropc
check "readdirplus 2000: ls -lA shows 2000 regular files" [ "$(ls -lA "$MNT/many2000" | grep -c '^-')" -eq 2000 ]
check "readdir 2000: stat of the last name" [ -f "$MNT/many2000/$(tail -1 "$MNT/many2000.expected")" ]

# ---- rename over an existing file
echo new > rsrc; echo old > rdst
check "rename over existing file" sh -c 'mv -f rsrc rdst && [ ! -e rsrc ] && [ "$(cat rdst)" = new ]'
dropc
check "rename over existing file (after drop_caches)" sh -c '[ ! -e rsrc ] && [ "$(cat rdst)" = new ] && [ "$(ls | grep -c "^r")" -eq 1 ]'
echo keep > ropen; echo replaced > rnew
exec 6< ropen
check "rename over a file that is held open" sh -c 'mv -f rnew ropen && [ "$(cat ropen)" = replaced ]'
check "open fd still reads the replaced file" sh -c 'read -r l <&6 && [ "$l" = keep ]'
exec 6<&-
mkdir rdir1 rdir2; : > rdir1/inside
check "rename dir over an empty dir (mv -T)" sh -c 'mv -T rdir1 rdir2 && [ -f rdir2/inside ] && [ ! -e rdir1 ]'
mkdir rdir3; : > rdir3/x
check "rename dir over a non-empty dir fails" sh -c '! mv -T rdir2 rdir3 2>/dev/null && [ -f rdir2/inside ] && [ -f rdir3/x ]'

# ---- large sparse file: write past 4 GiB, seek and read zeros
G=1073741824
printf END | dd of=sparse bs=1 seek=$((6*G)) conv=notrunc 2>/dev/null
check "sparse: size 6 GiB + 3" [ "$(stat -c %s sparse)" -eq $((6*G+3)) ]
dropc
check "sparse: zeros at offset 0" [ "$(dd if=sparse bs=65536 count=1 2>/dev/null | md5sum | cut -d' ' -f1)" = "$ZERO64K" ]
check "sparse: zeros at 4 GiB (64-bit offset)" [ "$(dd if=sparse bs=65536 skip=$((4*G/65536)) count=1 2>/dev/null | md5sum | cut -d' ' -f1)" = "$ZERO64K" ]
check "sparse: zeros just below 6 GiB" [ "$(dd if=sparse bs=65536 skip=$((6*G/65536-1)) count=1 2>/dev/null | md5sum | cut -d' ' -f1)" = "$ZERO64K" ]
check "sparse: tail is END" [ "$(tail -c 3 sparse)" = END ]
check "sparse: bytes around the data" [ "$(dd if=sparse bs=1 skip=$((6*G-2)) count=5 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 0000454e44 ]
check "sparse: read past EOF is empty" [ "$(dd if=sparse bs=1 skip=$((6*G+3)) count=10 2>/dev/null | wc -c)" -eq 0 ]

# ---- cp of a 10 MB file and cmp
dd if=/dev/urandom of=/tmp/r10 bs=1M count=10 2>/dev/null
check "cp 10 MB" cp /tmp/r10 c10
dropc
check "cmp 10 MB after drop_caches" cmp /tmp/r10 c10
md5sum < /tmp/r10 | cut -d' ' -f1 > c10.md5
rm -f /tmp/r10

# ---- concurrent writers to different files
pids=""; j=1
while [ $j -le 4 ]; do
  dd if=/dev/urandom of=/tmp/w$j bs=64k count=$((32+j*8)) 2>/dev/null
  md5sum < /tmp/w$j | cut -d' ' -f1 > /tmp/w$j.md5
  j=$((j+1))
done
j=1
while [ $j -le 4 ]; do
  dd if=/tmp/w$j of=w$j bs=64k conv=fsync 2>/dev/null &
  pids="$pids $!"; j=$((j+1))
done
rcs=0; for p in $pids; do wait $p || rcs=$((rcs+1)); done
check "concurrent writers: all 4 dd exit 0" [ $rcs -eq 0 ]
dropc
j=1; good=0
while [ $j -le 4 ]; do
  [ "$(md5sum < w$j | cut -d' ' -f1)" = "$(cat /tmp/w$j.md5)" ] && good=$((good+1))
  cp /tmp/w$j.md5 w$j.md5
  j=$((j+1))
done
check "concurrent writers: 4 md5 match" [ $good -eq 4 ]
rm -f /tmp/w?

# ---- O_APPEND
printf a >> app0; printf b >> app0; printf c >> app0
check "O_APPEND sequential" [ "$(cat app0)" = abc ]
: > app
j=1; pids=""
while [ $j -le 4 ]; do
  ( i=0; while [ $i -lt 40 ]; do echo "job$j line $i" >> app; i=$((i+1)); done ) &
  pids="$pids $!"; j=$((j+1))
done
for p in $pids; do wait $p; done
dropc
check "O_APPEND concurrent: 160 lines" [ "$(wc -l < app)" -eq 160 ]
check "O_APPEND concurrent: every line intact" [ "$(grep -cv '^job[1-4] line [0-9]*$' app)" -eq 0 ]
check "O_APPEND concurrent: 40 lines per job" sh -c 'for j in 1 2 3 4; do [ "$(grep -c "^job$j line" app)" -eq 40 ] || exit 1; done'
check "O_APPEND concurrent: each job in order" sh -c 'for j in 1 2 3 4; do grep "^job$j line" app | cut -d" " -f3 > /tmp/o; seq 0 39 | cmp -s - /tmp/o || exit 1; done'
check "O_APPEND size" [ "$(stat -c %s app)" -eq "$(cat app | wc -c)" ]

# ---- ls -l file types: fifo, socket, symlink, block/char device, directory
mkdir types && cd types || bad "types: mkdir"
mkfifo fifo
ln -s some/target symlink
mknod blk b 7 0
mknod chr c 1 3
mkdir dir
echo f > file
# a Unix socket made through NFS MKNOD(NF3SOCK): busybox syslogd binds
# /dev/log, so run it chrooted into a directory on the mount
mkdir -p sk/dev sk/bin sk/var/log && cp /bin/busybox sk/bin/busybox
chroot sk /bin/busybox syslogd -n -O /var/log/messages &
spid=$!
i=0; while [ ! -S sk/dev/log ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
kill $spid 2>/dev/null; wait $spid 2>/dev/null
ln sk/dev/log socket 2>/dev/null || mv sk/dev/log socket
rm -rf sk
cd "$D"
dropc
ls -l types > /tmp/ls.txt
echo "== ls -l types"; cat /tmp/ls.txt
t() { grep " $1\( ->.*\)\{0,1\}$" /tmp/ls.txt | cut -c1; }
check "ls -l: fifo is p" [ "$(t fifo)" = p ]
check "ls -l: socket is s" [ "$(t socket)" = s ]
check "ls -l: symlink is l" [ "$(t symlink)" = l ]
check "ls -l: symlink target shown" grep -q ' symlink -> some/target$' /tmp/ls.txt
check "ls -l: block device is b" [ "$(t blk)" = b ]
check "ls -l: char device is c" [ "$(t chr)" = c ]
check "ls -l: directory is d" [ "$(t dir)" = d ]
check "ls -l: file is -" [ "$(t file)" = - ]
check "stat: device numbers 7,0 and 1,3" sh -c '[ "$(stat -c %t,%T types/blk)" = 7,0 ] && [ "$(stat -c %t,%T types/chr)" = 1,3 ]'
check "stat: socket type" [ "$(stat -c %F types/socket)" = socket ]

# ---- unlink of an open file: silly rename to .nfsXXXX, gone after close
echo "still here" > open.txt
mkdir silly && mv open.txt silly/
exec 7< silly/open.txt
rm silly/open.txt
check "unlink open file: name gone" [ ! -e silly/open.txt ]
check "unlink open file: .nfsXXXX appears" sh -c '[ "$(ls -A silly | grep -c "^\.nfs")" -eq 1 ]'
dropc
check "unlink open file: fd still reads it" sh -c 'read -r l <&7 && [ "$l" = "still here" ]'
check "unlink open file: rmdir refused while .nfs file exists" sh -c '! rmdir silly 2>/dev/null'
exec 7<&-
i=0; while [ -n "$(ls -A silly)" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
check "unlink open file: .nfs file removed after close" [ -z "$(ls -A silly)" ]
check "unlink open file: rmdir after close" rmdir silly

# ---- deep directory tree, rm -rf
p=deep; i=0
while [ $i -lt 40 ]; do p=$p/d$i; i=$((i+1)); done
mkdir -p $p
q=deep; i=0
while [ $i -lt 40 ]; do q=$q/d$i; echo x > $q/f1; : > $q/f2; ln -s f1 $q/l; mkfifo $q/p; i=$((i+1)); done
check "deep tree: 40 levels created" sh -c "[ -f $p/f1 ] && [ -L $p/l ] && [ \"\$(cat $p/l)\" = x ]"
check "deep tree: find counts 160 non-dirs" [ "$(find deep ! -type d | wc -l)" -eq 160 ]
dropc
check "deep tree: rm -rf" rm -rf deep
check "deep tree: gone" [ ! -e deep ]
dropc
check "deep tree: gone after drop_caches" sh -c '[ ! -e deep ] && [ -z "$(ls -A | grep "^deep$")" ]'

echo "== NFSv3 procedures the kernel client sent (from /proc/self/mountstats):"
awk -v m=" $MNT " 'index($0,"device ")==1 {on = (index($0, m) > 0)} on && /per-op statistics/ {p=1; next} on && p && NF>1 && $2+0>0 {printf "%s%s", sep, $1 $2; sep=" "} END{print ""}' /proc/self/mountstats
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
