// Open MPI's predefined handles are C macros over global objects, which Swift
// cannot import. These getters expose each one as a function Swift can call.
#ifndef COHORT_CMPI_SHIM_H
#define COHORT_CMPI_SHIM_H

#include <mpi.h>

static inline MPI_Comm cohort_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm cohort_mpi_comm_null(void) { return MPI_COMM_NULL; }

static inline MPI_Datatype cohort_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cohort_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cohort_mpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype cohort_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype cohort_mpi_uint8(void) { return MPI_UINT8_T; }
static inline MPI_Datatype cohort_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Datatype cohort_mpi_byte(void) { return MPI_BYTE; }

static inline MPI_Op cohort_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op cohort_mpi_min(void) { return MPI_MIN; }
static inline MPI_Op cohort_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op cohort_mpi_prod(void) { return MPI_PROD; }

static inline void *cohort_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *cohort_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Request cohort_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Errhandler cohort_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline MPI_Info cohort_mpi_info_null(void) { return MPI_INFO_NULL; }

static inline int cohort_mpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline int cohort_mpi_any_tag(void) { return MPI_ANY_TAG; }
static inline int cohort_mpi_undefined(void) { return MPI_UNDEFINED; }
static inline int cohort_mpi_success(void) { return MPI_SUCCESS; }
static inline int cohort_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int cohort_mpi_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
static inline int cohort_mpi_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }
static inline int cohort_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int cohort_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int cohort_mpi_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }

#endif
