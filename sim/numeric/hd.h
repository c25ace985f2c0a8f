// Host/device qualifier for the numeric core: every function in sim/numeric is
// usable from host C++, CUDA device code, SystemC models and the RTL generator.
#pragma once

#if defined(__CUDACC__)
#define RISTSIM_HD __host__ __device__
#else
#define RISTSIM_HD
#endif
