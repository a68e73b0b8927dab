/* Where wasm2c's runtime gets its memory (included by wasm_runtime.c only,
 * before the runtime's sources). The core's linear memory is 640 KiB, most
 * of it the static input and output buffers, of which a run touches a few
 * pages. From the heap, calloc zeroes all of it on every run, and in a
 * multi-threaded slurmstepd each page it faults (and each trim of the heap
 * after free) costs a TLB shootdown on the other CPUs: 7% of the extern
 * step's end under perf. Blocks of 64 KiB and more come from mmap instead:
 * zero pages the kernel maps where they are touched, unmapped at free.
 * Every block carries its size and kind just before it, so free and
 * realloc know which it is. */
#ifndef PTD_W2C_ALLOC_H
#define PTD_W2C_ALLOC_H

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PTD_RT_MAPPED_MIN (64 * 1024)
/* mmap'd blocks start a page in (the header's page); heap blocks 16 bytes
 * in, which keeps malloc's alignment. */
#define PTD_RT_PAGE 4096
#define PTD_RT_HDR 16

struct ptd_rt_hdr {
	size_t size;
	size_t mapped;
};

static inline struct ptd_rt_hdr *ptd_rt_hdr_of(void *p)
{
	return (struct ptd_rt_hdr *) ((uint8_t *) p - PTD_RT_HDR);
}

static void *ptd_rt_alloc(size_t size, int zero)
{
	uint8_t *p;

	if (size > SIZE_MAX - PTD_RT_PAGE)
		return NULL;
	if (size >= PTD_RT_MAPPED_MIN) {
		p = mmap(NULL, size + PTD_RT_PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		p += PTD_RT_PAGE;
		*ptd_rt_hdr_of(p) = (struct ptd_rt_hdr) { size, 1 };
		return p;
	}
	p = zero ? calloc(1, size + PTD_RT_HDR) : malloc(size + PTD_RT_HDR);
	if (!p)
		return NULL;
	p += PTD_RT_HDR;
	*ptd_rt_hdr_of(p) = (struct ptd_rt_hdr) { size, 0 };
	return p;
}

static void *ptd_rt_malloc(size_t size)
{
	return ptd_rt_alloc(size, 0);
}

static void *ptd_rt_calloc(size_t n, size_t m)
{
	size_t size;

	if (__builtin_mul_overflow(n, m, &size))
		return NULL;
	return ptd_rt_alloc(size, 1);
}

static void ptd_rt_free(void *p)
{
	struct ptd_rt_hdr *h;

	if (!p)
		return;
	h = ptd_rt_hdr_of(p);
	if (h->mapped)
		(void) munmap((uint8_t *) p - PTD_RT_PAGE, h->size + PTD_RT_PAGE);
	else
		free(h);
}

/* Grown or shrunk in place where the kernel can (mremap); what the
 * runtime grows it zeroes itself. */
static void *ptd_rt_realloc(void *p, size_t size)
{
	struct ptd_rt_hdr *h;
	uint8_t *q;

	if (!p)
		return ptd_rt_alloc(size, 0);
	h = ptd_rt_hdr_of(p);
	if (h->mapped && size >= PTD_RT_MAPPED_MIN &&
	    size <= SIZE_MAX - PTD_RT_PAGE) {
		q = mremap((uint8_t *) p - PTD_RT_PAGE, h->size + PTD_RT_PAGE,
			   size + PTD_RT_PAGE, MREMAP_MAYMOVE);
		if (q == MAP_FAILED)
			return NULL;
		q += PTD_RT_PAGE;
		ptd_rt_hdr_of(q)->size = size;
		return q;
	}
	q = ptd_rt_alloc(size, 0);
	if (!q)
		return NULL;
	memcpy(q, p, h->size < size ? h->size : size);
	ptd_rt_free(p);
	return q;
}

#define malloc ptd_rt_malloc
#define calloc ptd_rt_calloc
#define realloc ptd_rt_realloc
#define free ptd_rt_free

#endif
