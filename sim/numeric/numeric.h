// The numeric core of ristsim: formats, rounding, overflow, bit growth and the
// random bits of stochastic rounding. Header-only, no dependencies; the same
// code runs on the host, in CUDA kernels, in SystemC models and in the RTL
// generator, so a format means the same bits everywhere.
#pragma once

#include "bits.h"
#include "format.h"
#include "growth.h"
#include "mx.h"
#include "quantize.h"
#include "random.h"
#include "rounding.h"
