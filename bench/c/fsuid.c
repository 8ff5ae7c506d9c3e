#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(){ int N=200000; gid_t g[3]={1000,1001,1002}; gid_t none[1]={0}; struct stat st; int dfd=open("/tmp",O_PATH|O_DIRECTORY);
 double t=now(); for(int i=0;i<N;i++){ fstatat(dfd,"htree",&st,AT_SYMLINK_NOFOLLOW);} double base=(now()-t)/N*1e9;
 t=now(); for(int i=0;i<N;i++){ syscall(SYS_setgroups,3,g); syscall(SYS_setfsgid,1000); syscall(SYS_setfsuid,1000);
   fstatat(dfd,"htree",&st,AT_SYMLINK_NOFOLLOW);
   syscall(SYS_setfsuid,0); syscall(SYS_setfsgid,0); syscall(SYS_setgroups,1,none);} double sw=(now()-t)/N*1e9;
 printf("{\"nsStat\":%.0f,\"nsStatWithFsuidSwitch\":%.0f}\n",base,sw); }
