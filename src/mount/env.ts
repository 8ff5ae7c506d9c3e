import type { ExportRegistry, FhGate } from '../export/types.js';
import type { MountList } from './mount-list.js';

export interface MountEnv {
  exports: ExportRegistry;
  gate: FhGate;
  /** Defaults to a fresh bounded list; pass one to share or inspect it. */
  mountList?: MountList;
}

/** What the procedures get: the env with its mount list filled in. */
export interface MountDeps {
  exports: ExportRegistry;
  gate: FhGate;
  mountList: MountList;
}
