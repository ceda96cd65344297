//! `kip ps [--json]`: running Jupyter servers and kernels (`jupyter::ps`), rendered.

use std::io::Write;

use crate::context::Context;
use crate::jupyter::ps;

pub fn run(ctx: &Context, json: bool) -> anyhow::Result<i32> {
    let report = ps::ps(ctx);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        write!(
            crate::render::stdout(),
            "{}",
            crate::render::ps::human(&report)
        )?;
    }
    Ok(0)
}
