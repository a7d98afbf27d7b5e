//! The bytes a destination receives, from a [`Notification`]: the webhook body (`json`: the
//! notification's JSON body; `slack`: a Slack-compatible `{"text", "blocks"}` message) and the
//! SNS Subject and Message. Pure; unit-tested below.
//!
//! Lists that do not fit are cut at a line boundary with a last line `... and N more`, so a
//! message about 300 functions stays within the receiver's limits:
//! - Slack: `text` at most 40,000 characters, a section block's text at most 3,000
//!   (<https://api.slack.com/reference/block-kit/blocks#section>,
//!   <https://api.slack.com/methods/chat.postMessage#truncating>);
//! - SNS: Subject at most 100 ASCII characters without line breaks, Message at most 256 KiB
//!   (<https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>).

use serde_json::{json, Value};

use super::Notification;

pub const SLACK_TEXT_CHARS: usize = 40_000;
pub const SLACK_SECTION_CHARS: usize = 3_000;
pub const SNS_SUBJECT_CHARS: usize = 100;
/// 256 KiB (262,144 bytes), the Message limit.
pub const SNS_MESSAGE_BYTES: usize = 262_144;

/// The webhook body of `format` (`json` or `slack`; anything else is refused earlier).
pub fn webhook_body(n: &Notification, format: &str) -> Value {
    match format {
        "slack" => slack_body(n),
        _ => n.body.clone(),
    }
}

/// `{"text": subject + lines, "blocks": [{"type": "section", "text": {"type": "mrkdwn", ...}}]}`.
pub fn slack_body(n: &Notification) -> Value {
    let full = format!("{}\n{}", n.subject, n.text);
    let text = cut_lines(&full, SLACK_TEXT_CHARS, |s| s.chars().count());
    let section = cut_lines(&format!("*{}*\n{}", n.subject, n.text), SLACK_SECTION_CHARS, |s| s.chars().count());
    json!({
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": section}}],
    })
}

/// The SNS Subject: printable ASCII only (others become `?`), one line, at most 100 characters.
pub fn sns_subject(subject: &str) -> String {
    let clean: String = subject
        .chars()
        .map(|c| match c {
            ' '..='~' => c,
            '\n' | '\r' | '\t' => ' ',
            _ => '?',
        })
        .collect();
    let trimmed = clean.trim();
    if trimmed.chars().count() <= SNS_SUBJECT_CHARS {
        trimmed.to_string()
    } else {
        format!("{}...", &trimmed[..SNS_SUBJECT_CHARS - 3])
    }
}

/// The SNS Message: the text, a blank line, the JSON body; the text is cut when the whole
/// would pass 256 KiB (the JSON stays whole: programs read it).
pub fn sns_message(n: &Notification) -> String {
    let body = n.body.to_string();
    let room = SNS_MESSAGE_BYTES.saturating_sub(body.len() + 2);
    format!("{}\n\n{body}", cut_lines(&n.text, room, str::len))
}

/// `text` if `size(text) <= max`; else its first lines followed by `... and N more` (N: the
/// lines left out), the whole within `max` by `size`.
pub fn cut_lines(text: &str, max: usize, size: impl Fn(&str) -> usize) -> String {
    if size(text) <= max {
        return text.to_string();
    }
    let lines: Vec<&str> = text.lines().collect();
    for keep in (0..lines.len()).rev() {
        let tail = format!("... and {} more", lines.len() - keep);
        let candidate = if keep == 0 { tail } else { format!("{}\n{tail}", lines[..keep].join("\n")) };
        if size(&candidate) <= max {
            return candidate;
        }
    }
    // Not even the tail fits: a hard cut (max is in the thousands in practice).
    text.chars().take_while({
        let mut used = 0;
        move |c| {
            used += size(c.encode_utf8(&mut [0; 4]));
            used <= max
        }
    }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(lines: usize) -> Notification {
        Notification {
            idempotency_key: "k".into(),
            rule: "high-errors".into(),
            severity: "critical".into(),
            kind: "threshold".into(),
            subject: "[LFM critical] high-errors: 300 functions firing".into(),
            text: (0..lines).map(|i| format!("FIRING fn-{i:04} error_rate 0.12 > 0.05 (3 of 5 periods)")).collect::<Vec<_>>().join("\n"),
            body: json!({"rule": "high-errors", "functions": lines}),
        }
    }

    #[test]
    fn json_format_sends_the_body_as_is() {
        let n = notification(2);
        assert_eq!(webhook_body(&n, "json"), n.body);
    }

    #[test]
    fn slack_fits_its_limits_and_says_how_many_lines_are_left_out() {
        let small = slack_body(&notification(2));
        assert_eq!(small["text"].as_str().unwrap().lines().count(), 3);
        assert!(small["blocks"][0]["text"]["text"].as_str().unwrap().starts_with("*[LFM critical] high-errors"));
        assert_eq!(small["blocks"][0]["text"]["type"], "mrkdwn");

        let n = notification(1000); // 1,000 lines of ~57 characters: ~57,000 characters
        let body = slack_body(&n);
        let text = body["text"].as_str().unwrap();
        let section = body["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(text.chars().count() <= SLACK_TEXT_CHARS, "{}", text.len());
        assert!(section.chars().count() <= SLACK_SECTION_CHARS, "{}", section.len());
        for cut in [text, section] {
            let kept = cut.lines().filter(|l| l.starts_with("FIRING")).count();
            let last = cut.lines().last().unwrap();
            assert_eq!(last, format!("... and {} more", 1000 - kept), "every line is either kept or counted");
        }
        assert!(section.lines().count() > 40, "the section keeps as many lines as fit");
    }

    #[test]
    fn cut_lines_counts_characters_not_bytes() {
        let text = "é".repeat(10) + "\n" + &"é".repeat(20);
        assert_eq!(cut_lines(&text, 31, |s| s.chars().count()), text);
        assert_eq!(cut_lines(&text, 25, |s| s.chars().count()), format!("{}\n... and 1 more", "é".repeat(10)));
        assert_eq!(cut_lines(&text, 25, str::len), "... and 2 more", "20 bytes of é and the tail do not fit in 25 bytes");
        assert_eq!(cut_lines(&text, 20, |s| s.chars().count()), "... and 2 more");
    }

    #[test]
    fn sns_subject_is_short_ascii_on_one_line() {
        assert_eq!(sns_subject("Fehler: Größe\nzu hoch"), "Fehler: Gr??e zu hoch");
        let long = sns_subject(&"a".repeat(150));
        assert_eq!(long.len(), 100);
        assert!(long.ends_with("..."));
    }

    #[test]
    fn sns_message_is_text_blank_line_json_within_256_kib() {
        let n = notification(2);
        let message = sns_message(&n);
        let (text, body) = message.split_once("\n\n").unwrap();
        assert_eq!(text, n.text);
        assert_eq!(serde_json::from_str::<Value>(body).unwrap(), n.body);
        let big = sns_message(&notification(10_000));
        assert!(big.len() <= SNS_MESSAGE_BYTES, "{}", big.len());
        assert!(big.split_once("\n\n").unwrap().0.lines().last().unwrap().starts_with("... and "));
    }
}
