/* The FP64 tensor-core product shared by the tiled Cholesky (rs_tiled.cuh)
 * and the Gram kernel (rs_gram.cuh). A header of its own so that both can
 * use it without one including the other's __global__ kernels (two .cu files
 * defining the same kernel would not link).
 *
 * The simulations include it once, globally, before their per-slot
 * namespaces (it holds no __shared__ state), so the kernels of every slot
 * find the one definition. */
#ifndef SB_RS_MMA_CUH
#define SB_RS_MMA_CUH

/* D = A·B + D on the FP64 tensor cores, one 8×8×4 product per warp: PTX
 * mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 (sm_80 and later). All 32
 * lanes call it together. Fragment layout (PTX ISA, "Matrix Fragments for
 * mma.m8n8k4 with .f64 floating point type"), g = lane >> 2, t = lane % 4:
 *   a  = A[g][t]             (A 8×4, row-major)
 *   b  = B[t][g]             (B 4×8, column-major)
 *   d0 = D[g][2t], d1 = D[g][2t + 1]
 * The simulation (sim_cuda.h sim_mma_f64_m8n8k4) exchanges the lanes'
 * fragments with exactly this layout, so a kernel that feeds the wrong
 * elements fails its parity checks there. */
__device__ __forceinline__ void rs_mma_f64_m8n8k4(double &d0, double &d1, double a, double b)
{
#if defined(SB_SIM_CUDA_H)
    sim_mma_f64_m8n8k4(d0, d1, a, b);
#elif defined(__CUDA_ARCH__)
    asm volatile("mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 {%0,%1}, {%2}, {%3}, {%0,%1};"
                 : "+d"(d0), "+d"(d1)
                 : "d"(a), "d"(b));
#else
    (void)d0;
    (void)d1;
    (void)a;
    (void)b;
#endif
}

#endif
