/* Runs the embedded core. The wasm2c runtime keeps its trap state in
 * process globals: one call at a time, never re-entered from an import. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/imports.h"
#include "util/messages.h"
#include "wasm-rt-impl.h"

struct ptd_core {
	ptd_w2c_core inst;
	struct PTD_W2C_ENV env;
};

static bool runtime_ready;

static void set_code(struct ptd_result *res, const char *code)
{
	snprintf(res->code, sizeof(res->code), "%s", code);
}

/* Copies len bytes at ptr out of the instance, or "" if out of bounds. */
static void copy_out(const wasm_rt_memory_t *mem, uint32_t ptr, uint32_t len,
		     char *dst, size_t size)
{
	if ((uint64_t) ptr + len > mem->size) {
		snprintf(dst, size, "(message out of bounds)");
		return;
	}
	snprintf(dst, size, "%.*s", (int) len, (const char *) mem->data + ptr);
}

/* Writes argv as NUL-terminated strings into the core's input buffer. */
static int put_args(struct ptd_core *c, int argc, char *const argv[],
		    uint32_t *ret_len)
{
	const wasm_rt_memory_t *mem = c->env.memory;
	uint32_t at = PTD_EXPORT(input_ptr)(&c->inst);
	uint32_t cap = PTD_EXPORT(input_cap)(&c->inst);
	uint64_t used = 0;
	int i;

	if ((uint64_t) at + cap > mem->size)
		return -EFAULT;
	for (i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (used + n > cap)
			return -E2BIG;
		memcpy(mem->data + at + used, argv[i], n);
		used += n;
	}
	*ret_len = (uint32_t) used;
	return 0;
}

/* The job's own options (core.h), each parsed by the core into its U_*
 * bits: the value is the user's, so only the core reads it. 0, or the
 * core's negative error. */
static int32_t user_bits(struct ptd_core *c, const struct ptd_job *job,
			 uint32_t *ret_bits)
{
	const struct ptd_user_opt *opts[2] = { &job->keep, &job->private_tmp };
	const int which[2] = { PTD_OPT_KEEP, PTD_OPT_PRIVATE };
	const wasm_rt_memory_t *mem = c->env.memory;
	uint32_t at = PTD_EXPORT(input_ptr)(&c->inst);
	uint32_t cap = PTD_EXPORT(input_cap)(&c->inst);
	int i;

	*ret_bits = 0;
	for (i = 0; i < 2; i++) {
		int32_t len = -1, r;

		if (!opts[i]->given)
			continue;
		if (opts[i]->value) {
			size_t n = strlen(opts[i]->value);

			/* The core refuses it, naming the option. */
			if (n > cap || (uint64_t) at + cap > mem->size)
				n = cap + 1;
			else
				memcpy(mem->data + at, opts[i]->value, n);
			len = (int32_t) n;
		}
		r = (int32_t) PTD_EXPORT(user_option)(&c->inst, (u32) which[i],
						  (u32) len);
		if (r < 0)
			return r;
		*ret_bits |= (uint32_t) r;
	}
	return 0;
}

static void explain(struct ptd_core *c, int32_t rc, struct ptd_result *res)
{
	const wasm_rt_memory_t *mem = c->env.memory;
	uint32_t n = PTD_EXPORT(error_name)(&c->inst, (u32) -rc);
	char what[PTD_MESSAGE_MAX];
	int e;

	copy_out(mem, PTD_EXPORT(name_ptr)(&c->inst), n, res->code,
		 sizeof(res->code));
	copy_out(mem, PTD_EXPORT(message_ptr)(&c->inst),
		 PTD_EXPORT(message_len)(&c->inst), what, sizeof(what));
	if (strcmp(res->code, "HOST")) {
		snprintf(res->message, sizeof(res->message), "%s", what);
		return;
	}
	e = (int) PTD_EXPORT(failed_errno)(&c->inst);
	ptd_failure(res->message, sizeof(res->message), what,
		    c->env.ops.failure, e);
}

uint32_t ptd_node_mem_mb(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	uint64_t mb;

	if (pages <= 0 || size <= 0)
		return 0;
	mb = (uint64_t) pages * (uint64_t) size / (1024 * 1024);
	return mb > UINT32_MAX ? UINT32_MAX : (uint32_t) mb;
}

/* The threads of cpu0's core: what one core counts in online CPUs. */
static long threads_per_core(void)
{
	char buf[256];
	long n = 0;
	ssize_t len;
	int fd;

	fd = open("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list",
		  O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 1;
	buf[len] = '\0';
	n = ptd_count_cpu_list(buf);
	return n > 0 ? n : 1;
}

uint32_t ptd_node_cores(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus <= 0)
		return 0;
	cpus /= threads_per_core();
	return cpus > 0 ? (uint32_t) cpus : 1;
}

long ptd_count_cpu_list(const char *s)
{
	long n = 0;

	/* "0-3,8,10-11": ranges and single numbers, as the kernel and Slurm
	 * write them. */
	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0)
			return -1;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		n += b - a + 1;
		s = end;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -1;
	}
	return n;
}

/* FNV-1a over the options, each with its NUL: the same line, the same
 * tag (never 0, which means "none" in the holders' protocol). */
static uint64_t options_tag(int argc, char *const argv[])
{
	uint64_t h = 14695981039346656037ULL;
	int i;

	for (i = 0; i < argc; i++) {
		const unsigned char *p = (const unsigned char *) argv[i];

		do {
			h ^= *p;
			h *= 1099511628211ULL;
		} while (*p++);
	}
	return h ? h : 1;
}

int ptd_core_run(enum ptd_phase phase, int argc, char *const argv[],
		 const struct ptd_job *job, bool dry_run,
		 struct ptd_result *res)
{
	struct ptd_core *volatile c;
	volatile int32_t rc = -1;
	volatile bool instantiated = false;
	wasm_rt_trap_t trap;
	uint32_t len = 0, bits = 0;
	int r;

	memset(res, 0, sizeof(*res));
	c = calloc(1, sizeof(*c));
	if (!c) {
		set_code(res, "NO_MEMORY");
		snprintf(res->message, sizeof(res->message), "out of memory");
		return -1;
	}
	ptd_ops_init(&c->env.ops, dry_run);
	c->env.ops.uid = (uid_t) job->uid;
	c->env.ops.jobid = job->jobid;
	c->env.ops.set_env = job->set_env;
	c->env.ops.set_env_ctx = job->set_env_ctx;
	c->env.ops.config_tag = options_tag(argc, argv);
	if (!runtime_ready) {
		wasm_rt_init();
		ptd_w2c_init_module();
		runtime_ready = true;
	}

	trap = wasm_rt_impl_try();
	if (trap != WASM_RT_TRAP_NONE) {
		set_code(res, "TRAP");
		snprintf(res->message, sizeof(res->message),
			 "the planning core trapped (%s); nothing more was done",
			 wasm_rt_strerror(trap));
		rc = -1;
		goto out;
	}
	ptd_w2c_instantiate(&c->inst, &c->env);
	instantiated = true;
	c->env.memory = PTD_EXPORT(memory)(&c->inst);
	if (!c->env.memory->data) {
		set_code(res, "NO_MEMORY");
		snprintf(res->message, sizeof(res->message), "out of memory");
		goto out;
	}
	if (PTD_EXPORT(abi_version)(&c->inst) != PTD_ABI_VERSION) {
		set_code(res, "ABI_MISMATCH");
		snprintf(res->message, sizeof(res->message),
			 "core ABI version %u, host expects %d",
			 PTD_EXPORT(abi_version)(&c->inst), PTD_ABI_VERSION);
		goto out;
	}
	rc = user_bits(c, job, &bits);
	/* A job's end never fails on what its user typed: its directories
	 * go as they always have. */
	if (rc < 0 && (phase == PTD_PHASE_EPILOG || phase == PTD_PHASE_DRAIN)) {
		bits = 0;
		rc = 0;
	}
	if (rc < 0) {
		explain(c, rc, res);
		goto out;
	}
	r = put_args(c, argc, argv, &len);
	if (r < 0) {
		rc = -1;
		set_code(res, "BAD_INPUT");
		snprintf(res->message, sizeof(res->message),
			 "options too long for the core's input buffer");
		goto out;
	}
	rc = (int32_t) PTD_EXPORT(run)(&c->inst, (u32) phase, len, job->jobid,
				   job->restart, job->uid, job->gid,
				   job->mem_mb, job->node_mem_mb,
				   job->cores, job->node_cores, job->request_mb,
				   bits);
	if (rc < 0)
		explain(c, rc, res);
	else
		rc = 0;
out:
	/* A namespace holder (NS_ENTER forked it) that got here could not
	 * make the job's namespace, or trapped: it tells its starter why and
	 * exits; it must never return into slurmstepd's code. */
	if (c->env.ops.ns.active)
		ptd_ns_abandon(&c->env.ops.ns, -EIO, res->message[0] ?
			       res->message : "the plan ended before serving");
	snprintf(res->notice, sizeof(res->notice), "%s",
		 c->env.ops.detail.notice);
	res->removed = c->env.ops.removed;
	res->ns_how = (int) c->env.ops.ns_how;
	res->session_job = c->env.ops.session_job;
	if (dry_run && rc == 0) {
		res->trace = c->env.ops.trace;
		c->env.ops.trace = NULL;
	}
	ptd_ops_done(&c->env.ops);
	if (instantiated)
		ptd_w2c_free(&c->inst);
	free(c);
	return rc < 0 ? -1 : 0;
}
