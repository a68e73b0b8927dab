/* The names wasm2c gives the core's imports and exports, for each wasm2c
 * naming scheme (PTD_W2C_NAMES from w2c_config.h, see w2c-config.sh), and
 * the runtime guarantees checked at compile time. */
#ifndef PTD_W2C_H
#define PTD_W2C_H

#include "core_wasm.h"
#if defined(PTD_W2C_EXCEPTIONS_IMPL)
#include "wasm-rt-exceptions.h"
#endif

#if PTD_W2C_NAMES == 2
#define PTD_W2C_ENV w2c_env
typedef w2c_core ptd_w2c_core;
#define PTD_IMPORT(name) w2c_env_##name
#define PTD_EXPORT(name) w2c_core_##name
#define ptd_w2c_init_module() ((void) 0)
#define ptd_w2c_instantiate wasm2c_core_instantiate
#define ptd_w2c_free wasm2c_core_free
#elif PTD_W2C_NAMES == 1
#define PTD_W2C_ENV Z_env_instance_t
typedef Z_core_instance_t ptd_w2c_core;
#define PTD_IMPORT(name) Z_envZ_##name
#define PTD_EXPORT(name) Z_coreZ_##name
#define ptd_w2c_init_module Z_core_init_module
#define ptd_w2c_instantiate Z_core_instantiate
#define ptd_w2c_free Z_core_free
#else
#error "PTD_W2C_NAMES not set: compile with -include w2c_config.h"
#endif

/* Inside slurmstepd the runtime must not install a process-wide SIGSEGV
 * handler or reserve gigabytes of address space for guard pages. */
#if defined(WASM_RT_INSTALL_SIGNAL_HANDLER) && WASM_RT_INSTALL_SIGNAL_HANDLER
#error "wasm2c runtime would install a signal handler"
#endif
#if defined(WASM_RT_MEMCHECK_SIGNAL_HANDLER) && WASM_RT_MEMCHECK_SIGNAL_HANDLER
#error "wasm2c runtime would use signal-handler memory checks"
#endif
#if defined(WASM_RT_USE_MMAP) && WASM_RT_USE_MMAP
#error "wasm2c runtime would mmap guard regions"
#endif
#if defined(WASM_RT_STACK_EXHAUSTION_HANDLER) && WASM_RT_STACK_EXHAUSTION_HANDLER
#error "wasm2c runtime would install an alternate signal stack"
#endif

#endif
