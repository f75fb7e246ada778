//! Prints the phoneme chunks of text read from the arguments or standard input.
//!
//! `cargo run -p voxclone-text --example phonemize -- GOLD SILVER [TEXT…]`; with no text,
//! each line of standard input is phonemised on its own and printed as `text<TAB>phonemes`.
//! `VOXCLONE_FALLBACK=spell` uses the spelling fallback even where espeak-ng is installed.
//! `--fallbacks` as the third argument reads one word per line and prints what each fallback
//! makes of it: `word<TAB>espeak-ng<TAB>known parts<TAB>spelling` (for scripts/eval_fallback.py).

use std::io::BufRead;
use voxclone_text::{Espeak, Fallback, Frontend, Lexicon};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        return Err("usage: phonemize US_GOLD US_SILVER [TEXT…|--fallbacks]".into());
    }
    let lexicon = Lexicon::load(args[0].as_ref(), args[1].as_ref())?;
    let fallback = match std::env::var("VOXCLONE_FALLBACK").as_deref() {
        Ok("spell") => Fallback::Spell,
        _ => Fallback::detect(),
    };
    let frontend = Frontend::with_fallback(lexicon, fallback);
    if args.get(2).map(String::as_str) == Some("--fallbacks") {
        let espeak = Espeak::detect();
        let g2p = frontend.g2p();
        for word in std::io::stdin().lock().lines() {
            let word = word?;
            let e = espeak.as_ref().and_then(|e| e.phonemize(&word));
            let k = g2p.known_parts(&word);
            let s = g2p.spell(&word);
            println!(
                "{word}\t{}\t{}\t{}",
                e.unwrap_or_default(),
                k.unwrap_or_default(),
                s.unwrap_or_default()
            );
        }
        return Ok(());
    }
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
