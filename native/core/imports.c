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

u32 PTD_IMPORT(open_trusted)(struct PTD_W2C_ENV *env, u32 slot, u32 path,
			u32 len, u32 mode, u32 flags)
{
	const char *p = str_at(env, path, len);

	maybe_trap("open_trusted");
	if (!p)
		return ret(-EFAULT);
	return ret(ptd_ops_open_trusted(&env->ops, (int) slot, p, mode,
					(int) flags));
}

u32 PTD_IMPORT(mkdir_at)(struct PTD_W2C_ENV *env, u32 parent, u32 slot,
		    u32 name, u32 name_len, u32 path, u32 path_len, u32 mode,
		    u32 uid, u32 gid, u32 flags)
{
	const char *n = str_at(env, name, name_len);
	const char *p = str_at(env, path, path_len);

	maybe_trap("mkdir_at");
	if (!n || !p)
		return ret(-EFAULT);
	return ret(ptd_ops_mkdir_at(&env->ops, (int) parent, (int) slot, n, p,
				    mode, uid, gid, (int) flags));
}

u32 PTD_IMPORT(unshare_mount_ns)(struct PTD_W2C_ENV *env)
{
	maybe_trap("unshare_mount_ns");
	return ret(ptd_ops_unshare_mount_ns(&env->ops));
}

u32 PTD_IMPORT(make_slave)(struct PTD_W2C_ENV *env)
{
	maybe_trap("make_slave");
	return ret(ptd_ops_make_slave(&env->ops));
}

u32 PTD_IMPORT(open_private)(struct PTD_W2C_ENV *env, u32 slot, u32 expect,
			u32 path, u32 len, u32 uid)
{
	const char *p = str_at(env, path, len);

	maybe_trap("open_private");
	if (!p)
		return ret(-EFAULT);
	return ret(ptd_ops_open_private(&env->ops, (int) slot, (int) expect, p,
					uid));
}

u32 PTD_IMPORT(open_target)(struct PTD_W2C_ENV *env, u32 slot, u32 path,
		       u32 len)
{
	const char *p = str_at(env, path, len);

	maybe_trap("open_target");
	if (!p)
		return ret(-EFAULT);
	return ret(ptd_ops_open_target(&env->ops, (int) slot, p));
}

u32 PTD_IMPORT(bind)(struct PTD_W2C_ENV *env, u32 source, u32 target,
		u32 target_path, u32 target_len, u32 source_path,
		u32 source_len)
{
	const char *t = str_at(env, target_path, target_len);
	const char *s = str_at(env, source_path, source_len);

	maybe_trap("bind");
	if (!t || !s)
		return ret(-EFAULT);
	return ret(ptd_ops_bind(&env->ops, (int) source, (int) target, t, s));
}

u32 PTD_IMPORT(mount_tmpfs)(struct PTD_W2C_ENV *env, u32 slot, u32 path,
			    u32 len, u32 size_mb, u32 inodes, u32 mode, u32 uid,
			    u32 gid, u32 flags)
{
	const char *p = str_at(env, path, len);

	maybe_trap("mount_tmpfs");
	if (!p)
		return ret(-EFAULT);
	return ret(ptd_ops_mount_tmpfs(&env->ops, (int) slot, p, size_mb,
				       inodes, mode, uid, gid, (int) flags));
}

u32 PTD_IMPORT(set_env)(struct PTD_W2C_ENV *env, u32 name, u32 name_len,
			u32 value, u32 value_len)
{
	const char *n = str_at(env, name, name_len);
	const char *v = str_at(env, value, value_len);

	maybe_trap("set_env");
	if (!n || !v)
		return ret(-EFAULT);
	return ret(ptd_ops_set_env(&env->ops, n, v));
}

u32 PTD_IMPORT(mark_ended)(struct PTD_W2C_ENV *env, u32 parent, u32 name,
		      u32 name_len, u32 path, u32 path_len, u32 uid)
{
	const char *n = str_at(env, name, name_len);
	const char *p = str_at(env, path, path_len);

	maybe_trap("mark_ended");
	if (!n || !p)
		return ret(-EFAULT);
	return ret(ptd_ops_mark_ended(&env->ops, (int) parent, n, p, uid));
}

u32 PTD_IMPORT(remove_at)(struct PTD_W2C_ENV *env, u32 parent, u32 hold,
		     u32 name, u32 name_len, u32 path, u32 path_len, u32 uid,
		     u32 flags)
{
	const char *n = str_at(env, name, name_len);
	const char *p = str_at(env, path, path_len);

	maybe_trap("remove_at");
	if (!n || !p)
		return ret(-EFAULT);
	return ret(ptd_ops_remove_at(&env->ops, (int) parent, (int) hold, n, p,
				     uid, (int) flags));
}

u32 PTD_IMPORT(drain_at)(struct PTD_W2C_ENV *env, u32 hold, u32 parent,
		    u32 prefix, u32 prefix_len, u32 path, u32 path_len,
		    u32 budget, u32 flags)
{
	const char *n = str_at(env, prefix, prefix_len);
	const char *p = str_at(env, path, path_len);

	maybe_trap("drain_at");
	if (!n || !p)
		return ret(-EFAULT);
	return ret(ptd_ops_drain_at(&env->ops, (int) hold, (int) parent, n, p,
				    (int) budget, (int) flags));
}

u32 PTD_IMPORT(continue_at)(struct PTD_W2C_ENV *env, u32 parent, u32 name,
		       u32 name_len, u32 path, u32 path_len, u32 budget)
{
	const char *n = str_at(env, name, name_len);
	const char *p = str_at(env, path, path_len);

	maybe_trap("continue_at");
	if (!n || !p)
		return ret(-EFAULT);
	return ret(ptd_ops_continue_at(&env->ops, (int) parent, n, p,
				       (int) budget));
}

u32 PTD_IMPORT(ns_enter)(struct PTD_W2C_ENV *env, u32 dir, u32 name,
			 u32 name_len, u32 path, u32 path_len, u32 flags)
{
	const char *n = str_at(env, name, name_len);
	const char *p = str_at(env, path, path_len);

	maybe_trap("ns_enter");
	if (!n || !p)
		return ret(-EFAULT);
	return ret(ptd_ops_ns_enter(&env->ops, (int) dir, n, p, (int) flags));
}

u32 PTD_IMPORT(ns_ready)(struct PTD_W2C_ENV *env)
{
	maybe_trap("ns_ready");
	return ret(ptd_ops_ns_ready(&env->ops));
}

u32 PTD_IMPORT(ns_release)(struct PTD_W2C_ENV *env, u32 dir, u32 name,
			   u32 name_len, u32 path, u32 path_len, u32 flags)
{
	const char *n = str_at(env, name, name_len);
	const char *p = str_at(env, path, path_len);

	maybe_trap("ns_release");
	if (!n || !p)
		return ret(-EFAULT);
	return ret(ptd_ops_ns_release(&env->ops, (int) dir, n, p, (int) flags));
}
