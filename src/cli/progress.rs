//! Progress bars on stderr, shown only when stderr is a terminal.

use std::io::IsTerminal;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

fn bar(total: u64, what: &str, template: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A byte-count progress bar; hidden when stderr is not a terminal.
pub fn bytes(total: u64, what: &str) -> ProgressBar {
    bar(
        total,
        what,
        "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
}

/// A count of items with their rate and an estimate (`unit`: "pages",
/// "rows"); hidden when stderr is not a terminal.
pub fn items(total: u64, what: &str, unit: &str) -> ProgressBar {
    let b = bar(
        total,
        what,
        &format!("{{msg}} [{{bar:40}}] {{human_pos}}/{{human_len}} {unit} {{rate}} eta {{eta}}"),
    );
    let style = ProgressStyle::with_template(&format!(
        "{{msg}} [{{bar:40}}] {{human_pos}}/{{human_len}} {unit} {{rate}}/s eta {{eta}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{}", HumanCount(s.per_sec() as u64));
    })
    .progress_chars("=> ");
    b.set_style(style);
    b
}
