//! The `ledgerbridge` binary. Everything happens in the library; see `ledgerbridge --help`.

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
