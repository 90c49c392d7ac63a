//! The `ledgerbridge` binary. Everything happens in the library; see `ledgerbridge --help`.

/// mimalloc instead of the system allocator: a run allocates and frees many small buffers
/// (JSON, SQL rows) on every worker thread, where glibc's malloc cost a quarter of the worker's
/// CPU (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match ledgerbridge::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
