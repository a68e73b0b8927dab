/* wasm2c's runtime from Debian's wabt (/usr/src/wasm2c), built into our own
 * objects with our flags: bounds checks, no signal handler, no mmap. */
#include "wasm-rt-impl.c"
