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
