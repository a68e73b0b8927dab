/* The instance-side state wasm2c passes to every import. */
#ifndef PTD_IMPORTS_H
#define PTD_IMPORTS_H

#include "core/core.h"
#include "core/ops.h"
#include "core/w2c.h"

struct PTD_W2C_ENV {
	struct ptd_ops ops;
	const wasm_rt_memory_t *memory;
};

#endif
