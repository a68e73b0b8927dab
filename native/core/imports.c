/* The core's imports: check every (offset, length) it hands over against its
 * memory, then pass plain C strings to ops.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "core/imports.h"

bool ptd_core_test_trap;
unsigned ptd_core_test_trap_at;
void (*ptd_core_test_before)(const char *op);

/* A NUL-terminated string of exactly len bytes inside the memory, or NULL. */
static const char *str_at(struct PTD_W2C_ENV *env, uint32_t ptr,
			  uint32_t len)
{
	const wasm_rt_memory_t *mem = env->memory;
	const char *s;

	if (!mem || (uint64_t) ptr + len + 1 > mem->size)
		return NULL;
	s = (const char *) mem->data + ptr;
	if (s[len] != '\0' || memchr(s, '\0', len))
		return NULL;
	return s;
}

static u32 ret(int r)
{
	return (u32) r;
}

/* Test hooks: trap on entry, before the operation, so that the calls
 * before it are all that was done. */
static void maybe_trap(const char *op)
{
	if (ptd_core_test_before)
		ptd_core_test_before(op);
	if (ptd_core_test_trap) {
		ptd_core_test_trap = false;
		wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
	}
	if (ptd_core_test_trap_at > 0 && --ptd_core_test_trap_at == 0)
		wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}

#include "ptd_wasm_imports.inc"
