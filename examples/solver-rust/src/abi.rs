//! include/saebench/solver.h (ABI version 1), field for field: copy this file unchanged.
//! #[repr(C)] lays each struct out as C does; the sizes are checked at compile time, each
//! field's offset and size by the test at the end.
//! Every struct starts with struct_size, set by the side that allocated it.
use std::mem;
use std::os::raw::{c_char, c_void};

pub type Status = i32; // saebench_status
pub const OK: Status = 0; // SAEBENCH_OK
pub const ERR_INPUT: Status = 1; // SAEBENCH_ERR_INPUT: the plugin refuses these inputs
pub const ERR_RUNTIME: Status = 2; // SAEBENCH_ERR_RUNTIME: the call failed
pub const API_VERSION: u32 = 1; // SAEBENCH_SOLVER_API_VERSION
pub const WORKLOAD_RESIDENT_SOLVE: u64 = 1 << 0;
pub const RS_PRIMAL: i32 = 0; // SAEBENCH_RS_PRIMAL; the methods bit is 1 << RS_PRIMAL
pub const RS_DUAL: i32 = 1;

/// saebench_error: saebench's buffer, msg_cap bytes at msg. Write one line, never keep it.
#[repr(C)]
pub struct Error {
    pub struct_size: usize,
    pub msg: *mut c_char,
    pub msg_cap: usize,
}
/// saebench_telemetry: zeroed by saebench, which sets struct_size (see has_field!).
#[repr(C)]
pub struct Telemetry {
    pub struct_size: usize,
    pub h2d_bytes: i64,
    pub d2h_bytes: i64,
    pub factorizations: i64,
    pub library_calls: i64,
    pub kernel_launches: i64,
    pub handle_creations: i64,
}
/// saebench_rs_problem: create()'s argument, valid during that call only.
#[repr(C)]
pub struct RsProblem {
    pub struct_size: usize,
    pub n: i64,
    pub p: i64,
    pub ridge: f64,
    pub method: i32,
    pub threads: i32,
    pub max_solves: i64,
}
/// saebench_rs_data: X (n×p, row-major) and rhs (p), saebench's, valid until destroy returns.
#[repr(C)]
pub struct RsData {
    pub struct_size: usize,
    pub x: *const f64,
    pub rhs: *const f64,
}
/// saebench_rs_ops_v1: the resident-solve table.
#[repr(C)]
pub struct RsOpsV1 {
    pub struct_size: usize,
    pub methods: u32,
    pub create: unsafe extern "C" fn(*const RsProblem, *mut *mut c_void, *mut Error) -> Status,
    pub stage: unsafe extern "C" fn(*mut c_void, *const RsData, *mut Error) -> Status,
    pub upload_w: unsafe extern "C" fn(*mut c_void, *const f64, *mut Error) -> Status,
    pub solve: unsafe extern "C" fn(*mut c_void, *mut Error) -> Status,
    pub download_beta: unsafe extern "C" fn(*mut c_void, *mut f64, *mut Error) -> Status,
    pub telemetry: unsafe extern "C" fn(*mut c_void, *mut Telemetry, *mut Error) -> Status,
    pub destroy: unsafe extern "C" fn(*mut c_void),
}
/// saebench_solver_desc_v1: what saebench_solver_v1() returns.
#[repr(C)]
pub struct SolverDescV1 {
    pub struct_size: usize,
    pub api_version: u32,
    pub name: *const c_char,
    pub version: *const c_char,
    pub claims_device: i32,
    pub device: *const c_char,
    pub workloads: u64,
    pub resident_solve: *const RsOpsV1,
}
// SAFETY: a descriptor is static and never written, nor is what its pointers point to.
unsafe impl Sync for SolverDescV1 {}

// sizeof as a C compiler gives it on a 64-bit target: a field missed, added or retyped fails
// the build here. Offsets: the test at the end (offset_of! is Rust 1.77; Debian 12 has 1.63).
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(mem::size_of::<Error>() == 24 && mem::size_of::<Telemetry>() == 56);
    assert!(mem::size_of::<RsProblem>() == 48 && mem::size_of::<RsData>() == 24);
    assert!(mem::size_of::<RsOpsV1>() == 72 && mem::size_of::<SolverDescV1>() == 64);
};

/// SAEBENCH_HAS_FIELD(p, T, field) for a raw pointer p. A struct saebench passes has its
/// header's size, which may be shorter (older) or longer (newer) than ours: use a field only
/// when struct_size reaches its end, and only through raw pointers, never as a whole `&T`.
macro_rules! has_field {
    ($p:expr, $T:ty, $field:ident) => {{
        let probe = ::std::mem::MaybeUninit::<$T>::uninit();
        let base = probe.as_ptr();
        (*$p).struct_size >= $crate::abi::field_end(base, ::std::ptr::addr_of!((*base).$field))
    }};
}
/// offsetof + sizeof of the field at `field` in the struct at `base` (addresses only).
pub fn field_end<T, F>(base: *const T, field: *const F) -> usize {
    field as usize - base as usize + mem::size_of::<F>()
}

/// Every field's offset and size against the C compiler's (cargo test; saebench's make
/// test-plugin runs it with SAEBENCH_ABI_LAYOUT naming the lines tests/plugins/abi_layout.c
/// prints from the header). The sizes above miss two fields of one type swapped; this does not.
#[cfg(test)]
mod layout {
    use super::*;

    fn pointee_size<F>(_: *const F) -> usize {
        mem::size_of::<F>()
    }

    // "Struct field offset size" for each field named, as abi_layout.c prints them.
    macro_rules! fields {
        ($out:ident, $T:ident, $($f:ident),+) => {{
            let probe = mem::MaybeUninit::<$T>::uninit();
            let base = probe.as_ptr();
            $(
                // SAFETY: an address inside the probe, computed without reading it
                let at = unsafe { ::std::ptr::addr_of!((*base).$f) };
                let size = pointee_size(at);
                let offset = field_end(base, at) - size;
                $out.push(format!("{} {} {} {}", stringify!($T), stringify!($f), offset, size));
            )+
        }};
    }

    #[test]
    fn every_field_where_the_header_has_it() {
        let path = match std::env::var("SAEBENCH_ABI_LAYOUT") {
            Ok(path) => path,
            Err(_) => {
                println!("layout: not checked (SAEBENCH_ABI_LAYOUT names no file)");
                return;
            }
        };
        let c = std::fs::read_to_string(&path).expect("SAEBENCH_ABI_LAYOUT: the file abi_layout printed");
        let mut rust: Vec<String> = Vec::new();
        fields!(rust, Error, struct_size, msg, msg_cap);
        fields!(rust, Telemetry, struct_size, h2d_bytes, d2h_bytes, factorizations, library_calls,
                kernel_launches, handle_creations);
        fields!(rust, RsProblem, struct_size, n, p, ridge, method, threads, max_solves);
        fields!(rust, RsData, struct_size, x, rhs);
        fields!(rust, RsOpsV1, struct_size, methods, create, stage, upload_w, solve, download_beta,
                telemetry, destroy);
        fields!(rust, SolverDescV1, struct_size, api_version, name, version, claims_device, device,
                workloads, resident_solve);
        let c: Vec<&str> = c.lines().collect();
        for (k, (r, c)) in rust.iter().zip(c.iter()).enumerate() {
            assert_eq!(r, c, "field {}: Rust (left) and the C header (right) disagree", k + 1);
        }
        assert_eq!(rust.len(), c.len(), "fields checked in Rust and in C");
        println!("layout: {} fields at the C header's offsets and sizes", rust.len());
    }
}
