// zlib's inflate/deflate, used to read and write gzip-compressed dataset files.
#ifndef COHORT_CZLIB_SHIM_H
#define COHORT_CZLIB_SHIM_H
#include <zlib.h>
#endif
