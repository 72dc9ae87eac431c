// OpenBLAS's CBLAS interface plus its own queries (kernel name, thread count).
#ifndef COHORT_COPENBLAS_SHIM_H
#define COHORT_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
