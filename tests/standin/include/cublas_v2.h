/* CPU stand-in for <cublas_v2.h>: as in the real header, the v2 API names are
 * macros for the _v2 symbols. TEST-ONLY (tests/standin/README.md). */
#ifndef SAEBENCH_STANDIN_CUBLAS_V2_H
#define SAEBENCH_STANDIN_CUBLAS_V2_H

#include "cublas_api.h"

#define cublasCreate cublasCreate_v2
#define cublasDestroy cublasDestroy_v2
#define cublasSetWorkspace cublasSetWorkspace_v2
#define cublasSetStream cublasSetStream_v2
#define cublasGetStream cublasGetStream_v2
#define cublasGetPointerMode cublasGetPointerMode_v2
#define cublasSetPointerMode cublasSetPointerMode_v2
#define cublasDaxpy cublasDaxpy_v2
#define cublasDgemv cublasDgemv_v2
#define cublasDsymv cublasDsymv_v2
#define cublasDgemm cublasDgemm_v2
#define cublasSsyrk cublasSsyrk_v2
#define cublasDsyrk cublasDsyrk_v2
#define cublasDtrsm cublasDtrsm_v2

#endif
