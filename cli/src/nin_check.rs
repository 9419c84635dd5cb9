//! `safeconv nin check`.

use std::io::{BufRead, Write};

use safeconv::{Nin, NinRules};

use crate::args::NinCheckArgs;
use crate::exit;

pub fn run(args: NinCheckArgs) -> i32 {
    let rules = NinRules::strict().allow_synthetic(args.allow_synthetic);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_valid = true;
    let mut check = |input: &str| {
        let line = match Nin::parse_with(input, rules) {
            Ok(nin) => format!("{}\tvalid\t{}", input.trim(), nin.kind().code()),
            Err(reason) => {
                all_valid = false;
                format!("{}\tinvalid\t{}", input.trim(), reason.code())
            }
        };
        // A closed pipe (e.g. `| head`) ends the output; nothing more to do.
        let _ = writeln!(out, "{line}");
    };
    for arg in &args.nins {
        if arg == "-" {
            // Bytes, not `lines()`: a line that is not UTF-8 is an invalid number, not the end.
            for line in std::io::stdin().lock().split(b'\n') {
                match line {
                    Ok(bytes) => {
                        let line = String::from_utf8_lossy(&bytes);
                        if !line.trim().is_empty() {
                            check(&line);
                        }
                    }
                    Err(e) => {
                        eprintln!("safeconv: cannot read standard input: {e}");
                        return exit::INVALID_INPUT;
                    }
                }
            }
        } else {
            check(arg);
        }
    }
    if all_valid {
        exit::SUCCESS
    } else {
        exit::INVALID_INPUT
    }
}
