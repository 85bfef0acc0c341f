/* The fault tests' own kernels (TEST-ONLY; tests/standin/fault_test.cpp), compiled once
 * per residency slot as the preludes do for cuda/'s (launch/<unit>.h), and,
 * like cuda/'s kernel headers, through tests/standin/shared-notes.sh, so
 * their __shared__ declarations are counted by the same machinery. */
#ifndef SB_FAULT_KERNELS_CUH
#define SB_FAULT_KERNELS_CUH

__global__ void fault_fill(double *out, int n)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        out[i] = 0.5 * i;
}

/* 40 KiB of static shared memory: with 16 KiB of dynamic shared memory over
 * the 48 KiB default. Writes each block's sum of its staged values. */
enum { FAULT_STATIC_DOUBLES = 5 * 1024 };
__global__ void fault_static_smem(const double *in, double *out)
{
    __shared__ double stage[FAULT_STATIC_DOUBLES];
    for (int i = threadIdx.x; i < FAULT_STATIC_DOUBLES; i += blockDim.x)
        stage[i] = in[i];
    __syncthreads();
    if (threadIdx.x == 0) {
        double s = 0.0;
        for (int i = 0; i < FAULT_STATIC_DOUBLES; i++)
            s += stage[i];
        out[blockIdx.x] = s;
    }
}

#endif
