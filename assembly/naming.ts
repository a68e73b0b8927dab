// The seed's directory layout, which sites' epilog scripts rely on:
//   <base>.<jobid>.<restart>/<mount without leading "/", other "/" -> "_">

// ".4294967295.4294967295" + "/"
export const MAX_JOBDIR_SUFFIX: i32 = 1 + 10 + 1 + 10 + 1;

@inline function mapped(c: u8): u8 {
  return c == 0x2f ? 0x5f : c;
}

// Whether two mount points give the same private directory name.
export function mountNameEquals(a: usize, alen: i32, b: usize, blen: i32): bool {
  if (alen != blen) return false;
  for (let i = 1; i < alen; i++) {
    if (mapped(load<u8>(a + <usize>i)) != mapped(load<u8>(b + <usize>i))) return false;
  }
  return true;
}

// Writes the private directory name of a mount point at dst; returns its length.
export function writeMountName(dst: usize, mount: usize, len: i32): i32 {
  for (let i = 1; i < len; i++) store<u8>(dst + <usize>(i - 1), mapped(load<u8>(mount + <usize>i)));
  return len - 1;
}

// The variable a step gets for a mount's private directory on the host
// (plan.ts planHostEnv): this prefix and the directory's name upper-cased,
// every byte but [A-Z0-9_] as "_" (a UTF-8 sequence gives one "_" a byte),
// so a name a shell can expand: mount=/var/tmp gives
// PRIVATE_TMPDIR_HOST_VAR_TMP.
export const HOST_ENV_PREFIX = "PRIVATE_TMPDIR_HOST_";

@inline function envByte(c: u8): u8 {
  if (c >= 0x61 && c <= 0x7a) return c - 0x20;
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) return c;
  return 0x5f;
}

// Whether two mount points give the same variable name (/var/tmp, /var_tmp
// and /VAR-TMP do).
export function envNameEquals(a: usize, alen: i32, b: usize, blen: i32): bool {
  if (alen != blen) return false;
  for (let i = 1; i < alen; i++) {
    if (envByte(load<u8>(a + <usize>i)) != envByte(load<u8>(b + <usize>i))) return false;
  }
  return true;
}

// Writes the variable name's part after HOST_ENV_PREFIX for a mount point at
// dst; returns its length (the mount's directory name's).
export function writeEnvName(dst: usize, mount: usize, len: i32): i32 {
  for (let i = 1; i < len; i++) store<u8>(dst + <usize>(i - 1), envByte(load<u8>(mount + <usize>i)));
  return len - 1;
}
