//! `postbud bench`: throughput figures (SPEC section 13). Placeholder until
//! the benchmarks land.

/// Benchmark options.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args) -> anyhow::Result<()> {
    Ok(())
}
