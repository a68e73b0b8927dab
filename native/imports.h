/* The instance-side state wasm2c passes to every import. */
#ifndef PTD_IMPORTS_H
#define PTD_IMPORTS_H

#include "core.h"
#include "core_wasm.h"
#include "ops.h"

struct Z_env_instance_t {
	struct ptd_ops ops;
	const wasm_rt_memory_t *memory;
};

#endif
