//! Durations as the config writes them (docs/reference.md §1.1): an integer number of seconds,
//! or a string with one unit suffix `s m h d w y` (`90d`, `1y` = 365 days).

/// Parses `"90d"`, `"30s"`, `"1y"` or `"3600"` into seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (text, ""),
        Some((at, _)) => text.split_at(at),
    };
    if digits.is_empty() {
        return Err(format!(
            "`{text}` does not start with a number (write it like `30s`, `15m`, `90d` or `1y`)"
        ));
    }
    let multiplier: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}` (use one of s, m, h, d, w, y)"
            ));
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is too large"))?;
    n.checked_mul(multiplier)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// The shortest exact way to write `seconds` with one unit (`7776000` → `90d`).
pub fn format_duration(seconds: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (365 * 86_400, "y"),
        (7 * 86_400, "w"),
        (86_400, "d"),
        (3_600, "h"),
        (60, "m"),
    ];
    if seconds == 0 {
        return "0s".into();
    }
    for (size, unit) in UNITS {
        if seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("45"), Ok(45));
        assert_eq!(parse_duration("30s"), Ok(30));
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("2h"), Ok(7_200));
        assert_eq!(parse_duration("90d"), Ok(7_776_000));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert_eq!(parse_duration("1y"), Ok(31_536_000));
        assert_eq!(parse_duration(" 5m "), Ok(300));
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in [
            "",
            "d",
            "10x",
            "1.5h",
            "10 d",
            "1h30m",
            "-5s",
            "99999999999999999999y",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(
            parse_duration("10x")
                .unwrap_err()
                .contains("unknown unit `x`")
        );
    }

    #[test]
    fn formats_with_the_largest_exact_unit() {
        assert_eq!(format_duration(7_776_000), "90d");
        assert_eq!(format_duration(31_536_000), "1y");
        assert_eq!(format_duration(30), "30s");
        assert_eq!(format_duration(90), "90s");
        assert_eq!(format_duration(120), "2m");
        assert_eq!(format_duration(0), "0s");
        for s in [1, 59, 61, 3_600, 86_401, 1_209_600] {
            assert_eq!(parse_duration(&format_duration(s)), Ok(s));
        }
    }
}
