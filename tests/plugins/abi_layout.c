/* The layout of include/saebench/solver.h's structs as this C compiler lays
 * them out, one line per field: "Struct field offset size", named as
 * examples/solver-rust/src/abi.rs names them. abi.rs's test (cargo test,
 * run by make test-plugin) compares its #[repr(C)] structs with these lines,
 * so a field missed, moved or retyped there fails even where the sizes agree. */
#include <stddef.h>
#include <stdio.h>

#include "saebench/solver.h"

#define FIELD(T, rust_struct, c_field, rust_field)                                                                     \
    printf("%s %s %zu %zu\n", rust_struct, rust_field, offsetof(T, c_field), sizeof(((T *)0)->c_field))

int main(void)
{
    FIELD(saebench_error, "Error", struct_size, "struct_size");
    FIELD(saebench_error, "Error", msg, "msg");
    FIELD(saebench_error, "Error", msg_cap, "msg_cap");

    FIELD(saebench_telemetry, "Telemetry", struct_size, "struct_size");
    FIELD(saebench_telemetry, "Telemetry", h2d_bytes, "h2d_bytes");
    FIELD(saebench_telemetry, "Telemetry", d2h_bytes, "d2h_bytes");
    FIELD(saebench_telemetry, "Telemetry", factorizations, "factorizations");
    FIELD(saebench_telemetry, "Telemetry", library_calls, "library_calls");
    FIELD(saebench_telemetry, "Telemetry", kernel_launches, "kernel_launches");
    FIELD(saebench_telemetry, "Telemetry", handle_creations, "handle_creations");

    FIELD(saebench_rs_problem, "RsProblem", struct_size, "struct_size");
    FIELD(saebench_rs_problem, "RsProblem", n, "n");
    FIELD(saebench_rs_problem, "RsProblem", p, "p");
    FIELD(saebench_rs_problem, "RsProblem", ridge, "ridge");
    FIELD(saebench_rs_problem, "RsProblem", method, "method");
    FIELD(saebench_rs_problem, "RsProblem", threads, "threads");
    FIELD(saebench_rs_problem, "RsProblem", max_solves, "max_solves");

    FIELD(saebench_rs_data, "RsData", struct_size, "struct_size");
    FIELD(saebench_rs_data, "RsData", X, "x");
    FIELD(saebench_rs_data, "RsData", rhs, "rhs");

    FIELD(saebench_rs_ops_v1, "RsOpsV1", struct_size, "struct_size");
    FIELD(saebench_rs_ops_v1, "RsOpsV1", methods, "methods");
    FIELD(saebench_rs_ops_v1, "RsOpsV1", create, "create");
    FIELD(saebench_rs_ops_v1, "RsOpsV1", stage, "stage");
    FIELD(saebench_rs_ops_v1, "RsOpsV1", upload_w, "upload_w");
    FIELD(saebench_rs_ops_v1, "RsOpsV1", solve, "solve");
    FIELD(saebench_rs_ops_v1, "RsOpsV1", download_beta, "download_beta");
    FIELD(saebench_rs_ops_v1, "RsOpsV1", telemetry, "telemetry");
    FIELD(saebench_rs_ops_v1, "RsOpsV1", destroy, "destroy");

    /* the Rust example's descriptor ends at resident_solve (it has no arrow
     * table): a descriptor from before the arrow field, which struct_size says */
    FIELD(saebench_solver_desc_v1, "SolverDescV1", struct_size, "struct_size");
    FIELD(saebench_solver_desc_v1, "SolverDescV1", api_version, "api_version");
    FIELD(saebench_solver_desc_v1, "SolverDescV1", name, "name");
    FIELD(saebench_solver_desc_v1, "SolverDescV1", version, "version");
    FIELD(saebench_solver_desc_v1, "SolverDescV1", claims_device, "claims_device");
    FIELD(saebench_solver_desc_v1, "SolverDescV1", device, "device");
    FIELD(saebench_solver_desc_v1, "SolverDescV1", workloads, "workloads");
    FIELD(saebench_solver_desc_v1, "SolverDescV1", resident_solve, "resident_solve");
    return 0;
}
