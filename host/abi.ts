// The core's ABI as seen from Node. Every value comes from assembly/abi.ts
// through host/abi.gen.ts (native/tools/gen-abi.sh, at build time); nothing here
// is written twice. The core's abi_version() is checked at load, so a core
// of another version fails closed.
import * as G from "./abi.gen.js";

export * from "./abi.gen.js";

export type PhaseName = keyof typeof G.Phase;

/** Op code -> the name of its import (the op's name, lower-cased). */
export const OP_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(G.Op).map(([k, v]) => [v, k.toLowerCase()]),
);

/** Flag bit -> its name in the CLI's plan: F_WIPE_ENDED is "wipe-ended". */
export const FLAG_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(G)
    .filter(([k]) => k.startsWith("F_"))
    .map(([k, v]) => [v as number, k.slice(2).toLowerCase().replaceAll("_", "-")]),
);
