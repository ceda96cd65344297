//! `kip completions bash|zsh|fish`: the bash script, loaded in a real bash, completes kip's
//! subcommands; the zsh and fish scripts parse in real zsh and fish (`.ci/run` installs both).

mod support;

use std::path::{Path, PathBuf};

use support::World;

/// The absolute path of a shell, or a failure naming it (never a silent pass).
fn shell(name: &str) -> PathBuf {
    ["/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: `apt-get install -y {name}` (.ci/run does this)")
        })
}

fn script(w: &World, sh: &str) -> PathBuf {
    let out = w.kip(&["completions", sh]);
    out.ok();
    assert!(!out.stdout.is_empty(), "empty {sh} script");
    let f = w.root().join(format!("kip.{sh}"));
    std::fs::write(&f, &out.stdout).unwrap();
    f
}

/// What bash's completion function offers for the words typed so far (the last is partial).
fn bash_complete(w: &World, script: &Path, words: &[&str]) -> Vec<String> {
    let code = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; \
         COMP_POINT=${{#COMP_LINE}}; _kip kip \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words
            .iter()
            .map(|x| format!("'{x}'"))
            .collect::<Vec<_>>()
            .join(" "),
        words.len() - 1
    );
    let out = w.run(&shell("bash"), &["--norc", "--noprofile", "-c", &code]);
    out.ok();
    let mut v: Vec<String> = out.stdout.split_whitespace().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn bash_completes_subcommands_and_flags() {
    let w = World::bare();
    let f = script(&w, "bash");
    assert_eq!(bash_complete(&w, &f, &["kip", "ke"]), ["kernel", "kernels"]);
    let shells = bash_complete(&w, &f, &["kip", "completions", ""]);
    for sh in ["bash", "zsh", "fish"] {
        assert!(
            shells.contains(&sh.to_string()),
            "{sh} not offered: {shells:?}"
        );
    }
    let kernel = bash_complete(&w, &f, &["kip", "kernel", ""]);
    for sub in ["add", "fix", "remove", "show", "use"] {
        assert!(
            kernel.contains(&sub.to_string()),
            "{sub} not offered: {kernel:?}"
        );
    }
    assert_eq!(bash_complete(&w, &f, &["kip", "p"]), ["ps"]);
    assert_eq!(
        bash_complete(&w, &f, &["kip", "install", "--dry"]),
        ["--dry-run"]
    );
}

#[test]
fn zsh_and_fish_scripts_parse() {
    let w = World::bare();
    for (sh, want) in [("zsh", "#compdef kip"), ("fish", "complete -c kip")] {
        let f = script(&w, sh);
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.contains(want), "{sh} script lacks {want:?}");
        w.run(&shell(sh), &["-n", f.to_str().unwrap()]).ok();
    }
}
