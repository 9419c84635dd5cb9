//! `safeconv`: run a Safe Conversation from the command line, against Signicat or the
//! embedded emulator, and check national identity numbers.

mod args;
mod demo;
mod exit;
mod logs;
mod nin_check;
mod report;
mod run;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command, NinCommand};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logs::init(cli.verbose);
    let code = match cli.command {
        Command::Demo(options) => demo::run(options).await,
        Command::Authenticate(options) => run::authenticate(options).await,
        Command::Status(options) => run::status(options).await,
        Command::Cancel(options) => run::cancel(options).await,
        Command::Nin {
            command: NinCommand::Check(options),
        } => nin_check::run(options),
    };
    ExitCode::from(code as u8)
}
