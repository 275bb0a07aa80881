//! Terminal output: colour only when stdout is a terminal and `NO_COLOR` is unset, and compact
//! tables whose column widths are computed on the plain text (so colour never misaligns them).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `paint` emits ANSI escapes; decided once in `main` by [`init`].
static COLOR: AtomicBool = AtomicBool::new(false);

/// The `--color` choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Decides once whether output is coloured (<https://no-color.org>: any non-empty `NO_COLOR`
/// turns colour off, unless the user explicitly asked for `--color always`).
pub fn init(choice: ColorChoice) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    COLOR.store(on, Ordering::Relaxed);
}

/// The few styles the output uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Bold,
    Dim,
    Green,
    Yellow,
    Red,
    Cyan,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Plain => "",
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Red => "31",
            Style::Cyan => "36",
        }
    }
}

/// `println!` that ends the process quietly when stdout is closed (`gomap tour | head`)
/// instead of panicking, and with an error for any other write failure.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::style::write_line(format_args!($($arg)*))
    };
}

pub fn write_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("gomap: error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// `text` in `style`, or unchanged when colour is off.
pub fn paint(text: &str, style: Style) -> String {
    if style == Style::Plain || !COLOR.load(Ordering::Relaxed) {
        text.to_string()
    } else {
        format!("\x1b[{}m{text}\x1b[0m", style.code())
    }
}

/// A section heading.
pub fn heading(text: &str) {
    crate::outln!("");
    crate::outln!("{}", paint(&format!("== {text} =="), Style::Bold));
}

/// A table cell: plain text plus the style to paint it in.
#[derive(Clone, Debug)]
pub struct Cell {
    pub text: String,
    pub style: Style,
}

impl Cell {
    pub fn styled(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            text: text.into(),
            style,
        }
    }
}

impl<T: Into<String>> From<T> for Cell {
    fn from(text: T) -> Cell {
        Cell::styled(text, Style::Plain)
    }
}

/// A table printed with one space-padded column per header; numeric-looking cells are
/// right-aligned, others left-aligned.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
    /// Left-align every cell (for rows of hex bytes, where some look numeric and some not).
    all_left: bool,
}

impl Table {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(headers: I) -> Table {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
            all_left: false,
        }
    }

    /// Left-aligns every column.
    pub fn left_aligned(mut self) -> Table {
        self.all_left = true;
        self
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// The table as lines of text (coloured if colour is on).
    pub fn render(&self) -> Vec<String> {
        let cols = self.headers.len();
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate().take(cols) {
                width[i] = width[i].max(c.text.chars().count());
            }
        }
        let numeric = |s: &str| {
            !self.all_left
                && !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_digit() || ".-+x%/×,".contains(c))
        };
        let mut out = Vec::new();
        let head: Vec<String> = self
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| format!("{h:<w$}", w = width[i]))
            .collect();
        out.push(paint(head.join("  ").trim_end(), Style::Bold));
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .take(cols)
                .map(|(i, c)| {
                    let padded = if numeric(&c.text) {
                        format!("{:>w$}", c.text, w = width[i])
                    } else {
                        format!("{:<w$}", c.text, w = width[i])
                    };
                    paint(&padded, c.style)
                })
                .collect();
            out.push(cells.join("  ").trim_end().to_string());
        }
        out
    }

    pub fn print(&self) {
        for line in self.render() {
            crate::outln!("  {line}");
        }
    }
}
