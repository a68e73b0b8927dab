// The core's ABI as seen from Node: must match assembly/abi.ts. The core's
// abi_version() is checked at load, so a mismatch fails closed.

export const ABI_VERSION = 3;

export const Phase = { CHECK: 0, EXTERN: 1, STEP: 2, EPILOG: 3 } as const;
export type PhaseName = keyof typeof Phase;

export const REC_WORDS = 12;
export const OP_NAMES: Record<number, string> = {
  1: "open_trusted",
  2: "mkdir_at",
  3: "unshare_mount_ns",
  4: "make_slave",
  5: "open_private",
  6: "open_target",
  7: "bind",
  8: "remove_at",
  9: "mark_ended",
};
export const FLAG_NAMES: Record<number, string> = { 1: "create", 2: "aside", 8: "wipe-ended" };
