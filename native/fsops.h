/* The syscalls behind the plan operations, by concern: walking and trust
 * (walk.h), making directories (dirs.h), the namespace and binds (bind.h);
 * their reasons and notices (detail.h). ops.c is their one caller. */
#ifndef PTD_FSOPS_H
#define PTD_FSOPS_H

#include "bind.h"
#include "detail.h"
#include "dirs.h"
#include "walk.h"

#endif
