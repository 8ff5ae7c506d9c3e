/**
 * Global client options of the command line (set by main.ts before a subcommand runs; no imports, so
 * `serve` does not load the client to set them).
 */
export const cliDefaults: {
  /** --nfs-version: the version of nfs:// URLs that do not say one (version=). */
  nfsVersion?: string;
} = {};
