# Optional fd-passing addon (Linux). Built by scripts/build-native.mjs at npm install.
{
  "targets": [
    {
      "target_name": "nfs_localio_fdpass",
      "sources": ["native/fdpass.c", "native/fsat.c", "native/fsdata.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra"],
      "cflags_c": ["-std=gnu11"],
      # Detached watcher threads can outlive a worker_threads Environment, which
      # dlclose()s its addons on exit: never unmap the code they are running.
      "ldflags": ["-Wl,-z,nodelete"],
      "configurations": {
        "Release": { "cflags!": ["-O3"], "cflags": ["-O2"] }
      }
    }
  ]
}
