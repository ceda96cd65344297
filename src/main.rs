//! The `kip` binary: parse arguments, run the command, map the outcome to an exit code.

/// mimalloc instead of glibc's malloc: a hub's listing makes hundreds of thousands of small
/// allocations, where glibc's bookkeeping (`malloc_consolidate`, `unlink_chunk`) was a tenth of
/// the time (bench/scale).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(kip::cli::main());
}
