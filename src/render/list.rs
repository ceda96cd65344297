//! `kip list`: a name/version/installer table, or the listing as JSON.

use std::fmt::Write;

use crate::flows::list::Report;
use crate::render::Output;

pub fn human(report: &Report) -> Output {
    let mut out = String::new();
    if let Some(l) = &report.listing {
        let pkgs = &l.packages;
        let w = pkgs.iter().map(|p| p.name.len()).max().unwrap_or(4).max(4);
        let vw = pkgs
            .iter()
            .map(|p| p.version.len())
            .max()
            .unwrap_or(7)
            .max(7);
        let _ = writeln!(out, "{:w$}  {:vw$}  installer", "name", "version");
        for p in pkgs {
            let shares: Vec<String> = p
                .shares_module
                .iter()
                .map(|s| format!("  (shares module {} with {})", s.module, s.distribution))
                .collect();
            let _ = writeln!(
                out,
                "{:w$}  {:vw$}  {}{}",
                p.name,
                p.version,
                p.installer,
                shares.concat()
            );
        }
    }
    Output::stdout(out)
}

pub fn json(report: &Report) -> Output {
    Output::stdout(super::json_line(&report.listing))
}
