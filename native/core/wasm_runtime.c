/* wasm2c's runtime from the node's wabt (/usr/src/wasm2c), built into our
 * own objects with our flags (w2c_config.h): bounds checks, no signal
 * handler, no mmap. wabt 1.0.33+ keeps the memory runtime and the unwind
 * target in files of their own. */
#define _GNU_SOURCE		/* mremap */
/* bench/core-run.sh builds the heap's way too, to compare. */
#ifndef PTD_W2C_ALLOC_HEAP
#include "core/w2c_alloc.h"
#endif
#include "wasm-rt-impl.c"
#if defined(PTD_W2C_MEM_IMPL)
#include "wasm-rt-mem-impl.c"
#endif
#if defined(PTD_W2C_EXCEPTIONS_IMPL)
#include "wasm-rt-exceptions-impl.c"
#endif
