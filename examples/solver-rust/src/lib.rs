//! A saebench solver plugin in Rust, standard library only: resident-solve on the host with
//! its own Cholesky. The contract is include/saebench/solver.h (ABI version 1); in prose,
//! docs/plugins.md. Build and run:
//!
//!   cargo build --offline --release
//!   saebench resident-solve --shape tiny-dual --backend plugin:target/release/libsaebench_solver_rust.so
//!
//! Primal: G = Xᵀ diag(w) X + ridge·I (p×p), G β = rhs. Dual (Woodbury, n ≤ p): K = XXᵀ and
//! X·rhs once in stage(); per rep (K + ridge·diag(1/w)) y = X·rhs, β = (rhs − Xᵀy)/ridge.
//! To start your own: keep src/abi.rs as it is and this file's frame (descriptor, guard, the
//! operations); replace `Solver::solve` and the arithmetic under it (docs/plugins.md).
#[macro_use]
pub mod abi;

use abi::{Error, RsData, RsOpsV1, RsProblem, SolverDescV1, Status, Telemetry, ERR_INPUT, ERR_RUNTIME, OK};
use std::os::raw::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::{mem, ptr, slice};

// ---- the descriptor: statics, so they and their strings live as long as the library ----
// saebench reads them and never writes or frees them.
static RS_OPS: RsOpsV1 = RsOpsV1 {
    struct_size: mem::size_of::<RsOpsV1>(),
    methods: 1 << abi::RS_PRIMAL | 1 << abi::RS_DUAL,
    create: rs_create,
    stage: rs_stage,
    upload_w: rs_upload_w,
    solve: rs_solve,
    download_beta: rs_download_beta,
    telemetry: rs_telemetry,
    destroy: rs_destroy,
};
#[allow(clippy::manual_c_str_literals)] // c"..." literals need Rust 1.77
static DESC: SolverDescV1 = SolverDescV1 {
    struct_size: mem::size_of::<SolverDescV1>(),
    api_version: abi::API_VERSION,
    name: b"rust-example\0".as_ptr().cast(), // the verdict's backend is plugin-rust-example
    version: concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast(),
    claims_device: 0, // the host: never engaged, never a device number
    device: ptr::null(),
    workloads: abi::WORKLOAD_RESIDENT_SOLVE,
    resident_solve: &RS_OPS,
};

/// The one exported symbol, called once per load: it must not fail, block or print.
#[no_mangle]
pub extern "C" fn saebench_solver_v1() -> *const SolverDescV1 {
    &DESC
}

// ---- errors: a status code, and one line in saebench's buffer ---------------------------
type Failure = (Status, String);

/// Runs one call's body. Err becomes its code and message; a panic becomes ERR_RUNTIME (it
/// must not unwind into saebench's C frames). The message is written as
/// snprintf(err->msg, err->msg_cap, ...) would: at most msg_cap − 1 bytes and a NUL.
unsafe fn guard(err: *mut Error, call: &str, body: impl FnOnce() -> Result<(), Failure>) -> Status {
    let (status, msg) = match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return OK,
        Ok(Err(failure)) => failure,
        Err(_) => (ERR_RUNTIME, format!("rust-example: {call} panicked")),
    };
    let (buf, cap) = ((*err).msg, (*err).msg_cap);
    if cap > 0 {
        let mut len = msg.len().min(cap - 1);
        while !msg.is_char_boundary(len) {
            len -= 1; // cut between characters: the verdict is UTF-8
        }
        ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), len);
        *buf.add(len) = 0;
    }
    status
}

// ---- the state: made by create, passed back by saebench, released by destroy ------------
struct Solver {
    n: usize,
    p: usize,
    ridge: f64,
    dual: bool,
    x: *const f64, // saebench's X and rhs from stage(): kept, never freed
    rhs: *const f64,
    w: Vec<f64>,    // this rep's weights (n), copied: saebench reuses its buffer
    k: Vec<f64>,    // dual: K = XXᵀ (n×n), from stage()
    xr: Vec<f64>,   // dual: X·rhs (n), from stage()
    sys: Vec<f64>,  // the system factored this rep, row-major: p×p (primal) or n×n (dual)
    sol: Vec<f64>,  // its solution: β (primal) or y (dual)
    beta: Vec<f64>, // p
    factorizations: i64,
}

impl Solver {
    /// X and rhs. SAFETY: after stage() only; saebench keeps them until destroy returns.
    unsafe fn frame<'a>(&self) -> (&'a [f64], &'a [f64]) {
        (slice::from_raw_parts(self.x, self.n * self.p), slice::from_raw_parts(self.rhs, self.p))
    }

    /// One rep. Only X, rhs and what stage() made from them are reused: every rep's w is new.
    fn solve(&mut self) -> Result<(), Failure> {
        let (n, p, m) = (self.n, self.p, self.sol.len());
        let (x, rhs) = unsafe { self.frame() }; // SAFETY: saebench calls stage() before any solve
        if self.dual {
            self.sys.copy_from_slice(&self.k);
            (0..n).for_each(|i| self.sys[i * n + i] += self.ridge / self.w[i]);
            self.sol.copy_from_slice(&self.xr);
        } else {
            self.sys.fill(0.0); // the upper triangle of Σᵢ wᵢ xᵢ xᵢᵀ, one row of X at a time
            for (row, &wi) in x.chunks_exact(p).zip(&self.w) {
                for j in 0..p {
                    axpy(wi * row[j], &row[j..], &mut self.sys[j * p + j..(j + 1) * p]);
                }
            }
            (0..p).for_each(|j| self.sys[j * p + j] += self.ridge);
            self.sol.copy_from_slice(rhs);
        }
        self.factorizations += 1;
        cholesky(&mut self.sys, m).map_err(|j| {
            (ERR_RUNTIME, format!("rust-example: the {m}x{m} system is not positive definite (pivot {j})"))
        })?;
        cholesky_solve(&self.sys, m, &mut self.sol);
        if self.dual {
            self.beta.copy_from_slice(rhs); // β = (rhs − Xᵀy)/ridge
            x.chunks_exact(p).zip(&self.sol).for_each(|(row, &yi)| axpy(-yi, row, &mut self.beta));
            self.beta.iter_mut().for_each(|b| *b /= self.ridge);
        } else {
            self.beta.copy_from_slice(&self.sol);
        }
        Ok(())
    }
}

/// A zeroed buffer, or ERR_RUNTIME where the memory is not there (`vec!` would abort).
fn zeros(len: usize) -> Result<Vec<f64>, Failure> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| (ERR_RUNTIME, format!("rust-example: out of memory ({len} doubles)")))?;
    v.resize(len, 0.0);
    Ok(v)
}

// ---- the operations, in the order saebench calls them -----------------------------------
// The state is a Box<Solver>: into_raw in create, from_raw in destroy; saebench only holds it.
unsafe fn state<'a>(s: *mut c_void) -> &'a mut Solver {
    &mut *s.cast::<Solver>()
}

/// Untimed. On an Err the buffers made so far are dropped here: saebench calls no destroy.
unsafe extern "C" fn rs_create(prob: *const RsProblem, out: *mut *mut c_void, err: *mut Error) -> Status {
    guard(err, "create", || {
        let prob = &*prob; // valid during this call only; n, p ≥ 1 and ridge > 0 (saebench checks)
        let (n, p, dual) = (prob.n as usize, prob.p as usize, prob.method == abi::RS_DUAL);
        let m = if dual { n } else { p };
        if n.checked_mul(p).and(m.checked_mul(m)).is_none() {
            return Err((ERR_INPUT, format!("rust-example: n = {n}, p = {p} is too large")));
        }
        let (k, xr) = if dual { (zeros(n * n)?, zeros(n)?) } else { (Vec::new(), Vec::new()) };
        let (x, rhs) = (ptr::null(), ptr::null());
        let (w, sys, sol, beta) = (zeros(n)?, zeros(m * m)?, zeros(m)?, zeros(p)?);
        let solver = Solver { n, p, ridge: prob.ridge, dual, x, rhs, w, k, xr, sys, sol, beta, factorizations: 0 };
        *out = Box::into_raw(Box::new(solver)).cast();
        Ok(())
    })
}

/// Untimed, once: what depends on X and rhs only is made here. That is residency.
unsafe extern "C" fn rs_stage(s: *mut c_void, data: *const RsData, err: *mut Error) -> Status {
    guard(err, "stage", || {
        let s = state(s);
        (s.x, s.rhs) = ((*data).x, (*data).rhs);
        if s.dual {
            let (x, rhs) = s.frame();
            for (i, xi) in x.chunks_exact(s.p).enumerate() {
                (i..s.n).for_each(|j| s.k[i * s.n + j] = dot(xi, &x[j * s.p..(j + 1) * s.p]));
                s.xr[i] = dot(xi, rhs);
            }
        }
        Ok(())
    })
}

// upload_w, solve, download_beta: one timed rep is one interval of saebench's clock, from
// before upload_w to after download_beta returns, so all three are inside it.
unsafe extern "C" fn rs_upload_w(s: *mut c_void, w: *const f64, err: *mut Error) -> Status {
    guard(err, "upload_w", || {
        let s = state(s);
        s.w.copy_from_slice(slice::from_raw_parts(w, s.n)); // w is valid during this call only
        Ok(())
    })
}

unsafe extern "C" fn rs_solve(s: *mut c_void, err: *mut Error) -> Status {
    guard(err, "solve", || state(s).solve())
}

unsafe extern "C" fn rs_download_beta(s: *mut c_void, beta: *mut f64, err: *mut Error) -> Status {
    guard(err, "download_beta", || {
        let s = state(s);
        slice::from_raw_parts_mut(beta, s.p).copy_from_slice(&s.beta);
        Ok(()) // the rep is over: every error of it has been reported
    })
}

/// Untimed. saebench zeroed the struct: on the host no bytes cross a bus, no kernels run,
/// and this plugin calls no vendor library, so only factorizations is written.
unsafe extern "C" fn rs_telemetry(s: *mut c_void, t: *mut Telemetry, err: *mut Error) -> Status {
    guard(err, "telemetry", || {
        if has_field!(t, Telemetry, factorizations) {
            ptr::addr_of_mut!((*t).factorizations).write(state(s).factorizations);
        }
        Ok(())
    })
}

/// Last, once create succeeded, also after any failure.
unsafe extern "C" fn rs_destroy(s: *mut c_void) {
    drop(Box::from_raw(s.cast::<Solver>()));
}

// ---- the arithmetic: row-major, upper triangles -----------------------------------------
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// y += a·x, elementwise independent, so the compiler vectorizes it.
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

/// Cholesky in place, right-looking: the upper triangle of `a` (m×m) becomes U with UᵀU = a
/// (the lower triangle is neither read nor written); each step updates the rows below with
/// contiguous axpys. Err(k) when pivot k is not positive.
fn cholesky(a: &mut [f64], m: usize) -> Result<(), usize> {
    for k in 0..m {
        let (row_k, below) = a[k * m..].split_at_mut(m);
        if row_k[k].is_nan() || row_k[k] <= 0.0 {
            return Err(k);
        }
        let ukk = row_k[k].sqrt();
        row_k[k] = ukk;
        row_k[k + 1..].iter_mut().for_each(|u| *u /= ukk);
        for (i, row_i) in (k + 1..).zip(below.chunks_exact_mut(m)) {
            axpy(-row_k[i], &row_k[i..], &mut row_i[i..]);
        }
    }
    Ok(())
}

/// Solves UᵀU x = b in place with U from cholesky().
fn cholesky_solve(u: &[f64], m: usize, b: &mut [f64]) {
    for k in 0..m {
        let row = &u[k * m..(k + 1) * m]; // Uᵀz = b, forward: row k of U is column k of Uᵀ
        b[k] /= row[k];
        let (done, rest) = b.split_at_mut(k + 1);
        axpy(-done[k], &row[k + 1..], rest);
    }
    for k in (0..m).rev() {
        let row = &u[k * m..(k + 1) * m]; // U x = z, backward
        b[k] = (b[k] - dot(&row[k + 1..], &b[k + 1..])) / row[k];
    }
}
