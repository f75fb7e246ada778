//! Numbers as English words, the way misaki reads them (misaki uses `num2words`).
//!
//! Words are separated by single spaces, with no hyphens and no "and" ("one hundred twenty
//! three"), because misaki looks every number word up on its own and drops "and".

/// Zero to nineteen.
pub(crate) const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
pub(crate) const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
/// Scale words for 10^3, 10^6, … 10^18.
const SCALES: [&str; 6] = [
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
];

fn below_thousand(n: u64, out: &mut Vec<&'static str>) {
    debug_assert!(n < 1000);
    let (hundreds, rest) = (n / 100, n % 100);
    if hundreds > 0 {
        out.push(ONES[hundreds as usize]);
        out.push("hundred");
    }
    if rest >= 20 {
        out.push(TENS[(rest / 10) as usize]);
        if rest % 10 > 0 {
            out.push(ONES[(rest % 10) as usize]);
        }
    } else if rest > 0 || hundreds == 0 {
        out.push(ONES[rest as usize]);
    }
}

fn cardinal_words(n: u64) -> Vec<&'static str> {
    let mut groups = Vec::new();
    let mut m = n;
    while m > 0 {
        groups.push(m % 1000);
        m /= 1000;
    }
    if groups.is_empty() {
        return vec!["zero"];
    }
    let mut out = Vec::new();
    for (scale, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            continue;
        }
        below_thousand(group, &mut out);
        if scale > 0 {
            out.push(SCALES[scale - 1]);
        }
    }
    out
}

/// Whether `word` is one of the words cardinals are made of ("zero" … "quintillion").
pub fn is_number_word(word: &str) -> bool {
    ONES.contains(&word) || TENS[2..].contains(&word) || SCALES.contains(&word) || word == "hundred"
}

/// `n` as a cardinal: 123 → "one hundred twenty three".
pub fn cardinal(n: u64) -> String {
    cardinal_words(n).join(" ")
}

/// A signed integer; negatives are read with "minus", as misaki does.
pub fn signed_cardinal(n: i64) -> String {
    if n < 0 {
        format!("minus {}", cardinal(n.unsigned_abs()))
    } else {
        cardinal(n as u64)
    }
}

/// The ordinal form of the last number word: "twenty two" → "twenty second".
fn ordinal_word(word: &str) -> String {
    match word {
        "one" => "first".into(),
        "two" => "second".into(),
        "three" => "third".into(),
        "five" => "fifth".into(),
        "eight" => "eighth".into(),
        "nine" => "ninth".into(),
        "twelve" => "twelfth".into(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    }
}

/// `n` as an ordinal: 22 → "twenty second", 101 → "one hundred first".
pub fn ordinal(n: u64) -> String {
    let mut words: Vec<String> = cardinal_words(n).into_iter().map(String::from).collect();
    if let Some(last) = words.last_mut() {
        *last = ordinal_word(last);
    }
    words.join(" ")
}

/// `n` read as a year, as `num2words(n, to="year")`: 1984 → "nineteen eighty four",
/// 1905 → "nineteen oh five", 1900 → "nineteen hundred", 2005 → "two thousand five",
/// 2010 → "twenty ten".
pub fn year(n: u64) -> String {
    let (high, low) = (n / 100, n % 100);
    if high == 0 || (high % 10 == 0 && low < 10) || high >= 100 {
        return cardinal(n);
    }
    let low_words = match low {
        0 => "hundred".to_string(),
        1..=9 => format!("oh {}", ONES[low as usize]),
        _ => cardinal(low),
    };
    format!("{} {low_words}", cardinal(high))
}

/// Each digit as a word: "007" → "zero zero seven".
pub fn digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| ONES[d as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A decimal written with a point, e.g. "3.14" → "three point one four", ".5" → "point five".
/// Digits after the point are read one by one, as num2words does. Returns `None` when `s` is
/// not `digits[.digits]`.
pub fn decimal(s: &str) -> Option<String> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut out = String::new();
    if !int.is_empty() {
        out.push_str(&integer(int)?);
    }
    if !frac.is_empty() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str("point ");
        out.push_str(&digits(frac));
    }
    Some(out)
}

/// An integer written in digits, possibly with thousands separators ("1,234,567"). Numbers
/// too long for a u64 are read digit by digit.
pub fn integer(s: &str) -> Option<String> {
    let plain: String = s.chars().filter(|&c| c != ',').collect();
    if plain.is_empty() || !plain.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match plain.parse::<u64>() {
        Ok(n) if plain.len() <= 19 => Some(cardinal(n)),
        _ => Some(digits(&plain)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinals() {
        for (n, words) in [
            (0, "zero"),
            (7, "seven"),
            (13, "thirteen"),
            (20, "twenty"),
            (42, "forty two"),
            (100, "one hundred"),
            (101, "one hundred one"),
            (999, "nine hundred ninety nine"),
            (1000, "one thousand"),
            (1001, "one thousand one"),
            (12_345, "twelve thousand three hundred forty five"),
            (1_000_000, "one million"),
            (2_000_300, "two million three hundred"),
            (1_000_000_000_000, "one trillion"),
        ] {
            assert_eq!(cardinal(n), words, "{n}");
        }
    }

    #[test]
    fn ordinals() {
        for (n, words) in [
            (1, "first"),
            (2, "second"),
            (3, "third"),
            (4, "fourth"),
            (5, "fifth"),
            (8, "eighth"),
            (9, "ninth"),
            (12, "twelfth"),
            (20, "twentieth"),
            (22, "twenty second"),
            (40, "fortieth"),
            (101, "one hundred first"),
            (1000, "one thousandth"),
        ] {
            assert_eq!(ordinal(n), words, "{n}");
        }
    }

    #[test]
    fn years() {
        for (n, words) in [
            (1984, "nineteen eighty four"),
            (1905, "nineteen oh five"),
            (1900, "nineteen hundred"),
            (2000, "two thousand"),
            (2005, "two thousand five"),
            (2010, "twenty ten"),
            (2024, "twenty twenty four"),
            (1066, "ten sixty six"),
            (800, "eight hundred"),
        ] {
            assert_eq!(year(n), words, "{n}");
        }
    }

    #[test]
    fn decimals_and_integers() {
        assert_eq!(decimal("3.14").unwrap(), "three point one four");
        assert_eq!(decimal("0.5").unwrap(), "zero point five");
        assert_eq!(decimal(".5").unwrap(), "point five");
        assert_eq!(decimal("12").unwrap(), "twelve");
        assert_eq!(decimal("1.2.3"), None);
        assert_eq!(
            integer("1,234").unwrap(),
            "one thousand two hundred thirty four"
        );
        assert_eq!(
            integer("12345678901234567890123")
                .unwrap()
                .split(' ')
                .count(),
            23
        );
        assert_eq!(signed_cardinal(-5), "minus five");
        assert_eq!(digits("007"), "zero zero seven");
    }
}
