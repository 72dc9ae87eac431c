// OpenBLAS's CBLAS interface plus its own queries (kernel name, thread count), and
// the LAPACK routines Cohort calls (OpenBLAS exports them; Debian ships no header
// that matches its build, so their Fortran prototypes are declared here, with the
// hidden lengths of the character arguments that gfortran appends).
#ifndef COHORT_COPENBLAS_SHIM_H
#define COHORT_COPENBLAS_SHIM_H
#include <cblas.h>
#include <stddef.h>

/// Eigenvalues (ascending) and, with jobz = 'V', eigenvectors of a symmetric matrix
/// (divide and conquer).
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_length, size_t uplo_length);
#endif
