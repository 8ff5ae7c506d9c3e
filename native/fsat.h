/* fsat.h — the storage calls of the addon (fsat.c): statAt/statMany and the *at family. */
#ifndef NFS_LOCALIO_FSAT_H
#define NFS_LOCALIO_FSAT_H
#include <node_api.h>

/* Defines statAt, statMany, pathAt, fsAt, fsAtSync, readdirAt, readlinkAt and statfsAt on `exports`. */
napi_status fsat_define(napi_env env, napi_value exports);

#endif
