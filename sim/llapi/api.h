// Internal: includes the public API with default visibility. The library is
// compiled with -fvisibility=hidden, so only what is declared between the
// pragmas (the llapi_* functions) is exported; lustreapi.map then keeps
// everything else local. Every source file of the library includes this
// header first.
#ifndef SIM_LLAPI_API_H_
#define SIM_LLAPI_API_H_

#pragma GCC visibility push(default)
#include <lustre/lustreapi.h>

#include "sim/llapi/sim_extensions.h"
#include "sim/llapi/sim_hsm_upcall.h"
#pragma GCC visibility pop

#endif  // SIM_LLAPI_API_H_
