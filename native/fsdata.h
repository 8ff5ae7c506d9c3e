/* fsdata.h — the NFSv4.2 data calls of the addon (fsdata.c): dataOp and xattr. */
#ifndef NFS_LOCALIO_FSDATA_H
#define NFS_LOCALIO_FSDATA_H
#include <node_api.h>

/* Defines dataOp and xattr on `exports`. */
napi_status fsdata_define(napi_env env, napi_value exports);

#endif
