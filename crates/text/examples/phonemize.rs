//! Prints the phoneme chunks of text read from the arguments or standard input.
//!
//! `cargo run -p voxclone-text --example phonemize -- GOLD SILVER [TEXT…]`; with no text,
//! each line of standard input is phonemised on its own and printed as `text<TAB>phonemes`.

use std::io::BufRead;
use voxclone_text::{Fallback, Frontend, Lexicon};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        return Err("usage: phonemize US_GOLD US_SILVER [TEXT…]".into());
    }
    let lexicon = Lexicon::load(args[0].as_ref(), args[1].as_ref())?;
    let fallback = match std::env::var("VOXCLONE_FALLBACK").as_deref() {
        Ok("spell") => Fallback::Spell,
        _ => Fallback::detect(),
    };
    let frontend = Frontend::with_fallback(lexicon, fallback);
    if args.len() > 2 {
        for chunk in frontend.chunks(&args[2..].join(" ")) {
            println!("{}\t{}", chunk.text, chunk.phonemes);
        }
        return Ok(());
    }
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let phonemes: Vec<String> = frontend.chunks(&line).map(|c| c.phonemes).collect();
        println!("{}\t{}", line, phonemes.join(" "));
    }
    Ok(())
}
