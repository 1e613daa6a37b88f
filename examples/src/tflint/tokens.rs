//! Removing an attribute or a block from HCL source with what belongs to it (its comments, its
//! line, a blank line), as tflint-plugin-sdk v0.25.0's fixer does with HCL's tokens
//! (`RemoveAttribute`, `RemoveExtBlock`). Its token scan only looks at the tokens between the
//! removed range and the nearest newline on either side, so the lexer here only has to find
//! those exactly: newlines, comments (a `#` or `//` comment ends with its newline, as in HCL's
//! lexer), braces; strings and heredocs are single tokens, so nothing in them counts.

use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Newline,
    /// `#…` or `//…`, newline included.
    LineComment,
    /// `/* … */`.
    BlockComment,
    OpenBrace,
    CloseBrace,
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

fn lex(source: &str) -> Vec<Token> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let kind = match bytes[at] {
            b'\n' => {
                at += 1;
                Kind::Newline
            }
            b'\r' if bytes.get(at + 1) == Some(&b'\n') => {
                at += 2;
                Kind::Newline
            }
            b' ' | b'\t' | b'\r' => {
                at += 1;
                continue;
            }
            b'#' => {
                at = line_end(bytes, at);
                Kind::LineComment
            }
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at = line_end(bytes, at);
                Kind::LineComment
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = source[at + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |end| at + 2 + end + 2);
                Kind::BlockComment
            }
            b'{' => {
                at += 1;
                Kind::OpenBrace
            }
            b'}' => {
                at += 1;
                Kind::CloseBrace
            }
            b'"' => {
                at = quoted_end(bytes, at);
                Kind::Other
            }
            b'<' if bytes.get(at + 1) == Some(&b'<') => {
                at = heredoc_end(source, at).unwrap_or(at + 2);
                Kind::Other
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 => {
                while at < bytes.len()
                    && (bytes[at].is_ascii_alphanumeric()
                        || matches!(bytes[at], b'_' | b'-' | b'.')
                        || bytes[at] >= 0x80)
                {
                    at += 1;
                }
                Kind::Other
            }
            _ => {
                let two = source.get(at..at + 2).unwrap_or_default();
                at += if ["==", "!=", "<=", ">=", "=>", "&&", "||"].contains(&two) {
                    2
                } else {
                    1
                };
                Kind::Other
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: at,
        });
    }
    // HCL's lexer ends with an empty end-of-file token.
    tokens.push(Token {
        kind: Kind::Other,
        start: bytes.len(),
        end: bytes.len(),
    });
    tokens
}

/// Just after the newline ending the line `at` is on (or the end).
fn line_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |newline| at + newline + 1)
}

/// Just after the quoted string starting at `at`, interpolations and strings in them included.
fn quoted_end(bytes: &[u8], at: usize) -> usize {
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                if bytes.get(i.wrapping_sub(1)) == Some(&bytes[i]) {
                    // `$${` and `%%{` are literal.
                    i += 2;
                    continue;
                }
                i = interpolation_end(bytes, i + 2);
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Just after the `}` closing an interpolation whose content starts at `at`.
fn interpolation_end(bytes: &[u8], mut at: usize) -> usize {
    let mut depth = 1;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at = quoted_end(bytes, at);
                continue;
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return at + 1;
                }
            }
            _ => {}
        }
        at += 1;
    }
    bytes.len()
}

/// The end of the closing marker of the heredoc starting at `at` (`<<EOT` or `<<-EOT`).
fn heredoc_end(source: &str, at: usize) -> Option<usize> {
    let rest = &source[at + 2..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let marker_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let marker = &rest[..marker_len];
    if marker.is_empty() {
        return None;
    }
    let mut line_start = source[at..].find('\n')? + at + 1;
    loop {
        let line_end = source[line_start..]
            .find('\n')
            .map_or(source.len(), |end| line_start + end);
        let line = source[line_start..line_end].trim_end_matches('\r');
        if line.trim() == marker {
            return Some(line_start + line.trim_end().len());
        }
        if line_end == source.len() {
            return None;
        }
        line_start = line_end + 1;
    }
}

/// A file's tokens, lexed once for every declaration removed from it.
pub(super) struct Lexed {
    tokens: Vec<Token>,
}

impl Lexed {
    pub(super) fn new(source: &str) -> Self {
        Lexed {
            tokens: lex(source),
        }
    }

    /// The block whose definition starts at byte `def_start` and ends at `def_end`: to the end of its
    /// closing brace.
    pub(super) fn block_range(&self, def_start: usize, def_end: usize) -> Option<Range<usize>> {
        let tokens = &self.tokens;
        let open = tokens
            .iter()
            .position(|t| t.kind == Kind::OpenBrace && t.start >= def_end)?;
        let mut depth = 0;
        for token in &tokens[open..] {
            match token.kind {
                Kind::OpenBrace => depth += 1,
                Kind::CloseBrace => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(def_start..token.end);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// `range` with what the SDK's fixer removes with it: the comments on the lines just before it,
    /// the rest of its line, and one side's blank lines when both sides have as many.
    pub(super) fn removal(&self, range: Range<usize>) -> Option<Range<usize>> {
        let tokens = &self.tokens;
        let first = tokens.iter().position(|t| t.start == range.start)?;
        let last = tokens.iter().position(|t| t.end == range.end)?;

        // Backward, to just after a newline, an opening brace, or the comments that belong to it.
        let mut start = tokens[first].start;
        let mut index = first;
        'backward: while index > 0 {
            index -= 1;
            let token = tokens[index];
            start = token.start;
            match token.kind {
                Kind::Newline | Kind::OpenBrace => {
                    start = token.end;
                    break;
                }
                Kind::LineComment => {
                    let trailing = index;
                    while index > 0 {
                        index -= 1;
                        match tokens[index].kind {
                            Kind::LineComment | Kind::BlockComment => continue,
                            Kind::Newline => {
                                start = tokens[index].end;
                                break 'backward;
                            }
                            _ => {
                                index = trailing;
                                start = tokens[trailing].end;
                                break 'backward;
                            }
                        }
                    }
                    // The comments reach the file's first token.
                    start = tokens[index].start;
                    break;
                }
                _ => {}
            }
        }
        let mut newlines_before = 0;
        while index > 0 && tokens[index - 1].kind == Kind::Newline {
            index -= 1;
            newlines_before += 1;
        }

        // Forward, to just after its newline or line comment, or before a closing brace.
        let mut end = tokens[last].end;
        let mut index = last;
        while index + 1 < tokens.len() {
            index += 1;
            let token = tokens[index];
            end = token.end;
            match token.kind {
                Kind::Newline | Kind::LineComment => break,
                Kind::CloseBrace => {
                    end = token.start;
                    break;
                }
                _ => {}
            }
        }
        let mut newlines_after = 0;
        let mut after = end;
        while index + 1 < tokens.len() && tokens[index + 1].kind == Kind::Newline {
            index += 1;
            newlines_after += 1;
            after = tokens[index].end;
        }
        if newlines_after > 0 && newlines_before == newlines_after {
            end = after;
        }
        Some(start..end)
    }
}

/// What `hclwrite.Format` changes in a file already formatted (`terraform fmt`) that lost lines:
/// the alignment of `=` in consecutive one-line attributes, then of trailing comments on
/// consecutive lines (the SDK formats every file a fix changed). Indentation and the spaces
/// between other tokens are taken as they are.
pub(super) fn align(source: &str) -> String {
    let tokens = lex(source);
    // Each line's tokens: up to a newline, or a line comment (which ends with one).
    let mut lines: Vec<&[Token]> = Vec::new();
    let mut first = 0;
    for (index, token) in tokens.iter().enumerate() {
        if matches!(token.kind, Kind::Newline | Kind::LineComment) {
            lines.push(&tokens[first..=index]);
            first = index + 1;
        }
    }
    lines.push(&tokens[first..tokens.len() - 1]);

    let width = |from: usize, to: usize| source[from..to].chars().count();
    // Per line: where it starts, its `=` (index in the line) when it is a one-line attribute, and
    // its trailing comment (index) when it has code before one.
    struct Cells {
        start: usize,
        assign: Option<usize>,
        comment: Option<usize>,
    }
    let cells: Vec<Cells> = lines
        .iter()
        .map(|line| {
            let start = line
                .first()
                .map_or(0, |t| source[..t.start].rfind('\n').map_or(0, |at| at + 1));
            let comment = (line.len() > 1 && line[line.len() - 1].kind == Kind::LineComment)
                .then(|| line.len() - 1);
            let code = &line[..comment.unwrap_or(line.len())];
            let assign = code.iter().enumerate().skip(1).find_map(|(index, token)| {
                if &source[token.start..token.end] != "=" {
                    return None;
                }
                let net: i32 = code[index..]
                    .iter()
                    .map(|t| match &source[t.start..t.end] {
                        "{" | "[" | "(" => 1,
                        "}" | "]" | ")" => -1,
                        _ => 0,
                    })
                    .sum();
                Some((net == 0).then_some(index))
            });
            Cells {
                start,
                assign: assign.flatten(),
                comment,
            }
        })
        .collect();

    // Spaces wanted before each line's `=` and comment.
    let mut assign_spaces = vec![None; lines.len()];
    let lead = |i: usize, at: usize| width(cells[i].start, lines[i][at - 1].end);
    let mut chain: Vec<usize> = Vec::new();
    let close = |chain: &mut Vec<usize>,
                 spaces: &mut Vec<Option<usize>>,
                 columns: &dyn Fn(usize) -> usize| {
        let most = chain.iter().map(|&i| columns(i)).max().unwrap_or(0);
        for &i in chain.iter() {
            spaces[i] = Some(most - columns(i) + 1);
        }
        chain.clear();
    };
    let assign_columns = |i: usize| lead(i, cells[i].assign.unwrap_or(1));
    for (i, cell) in cells.iter().enumerate() {
        if cell.assign.is_some() {
            chain.push(i);
        } else {
            close(&mut chain, &mut assign_spaces, &assign_columns);
        }
    }
    close(&mut chain, &mut assign_spaces, &assign_columns);

    // A line's width before its comment, once its `=` is aligned.
    let before_comment = |i: usize| {
        let comment = cells[i].comment.unwrap_or(1);
        match (cells[i].assign, assign_spaces[i]) {
            (Some(at), Some(spaces)) => {
                lead(i, at) + spaces + width(lines[i][at].start, lines[i][comment - 1].end)
            }
            _ => lead(i, comment),
        }
    };
    let mut comment_spaces = vec![None; lines.len()];
    for (i, cell) in cells.iter().enumerate() {
        if cell.comment.is_some() {
            chain.push(i);
        } else {
            close(&mut chain, &mut comment_spaces, &before_comment);
        }
    }
    close(&mut chain, &mut comment_spaces, &before_comment);

    // The text again, with those spaces.
    let mut text = String::with_capacity(source.len());
    let mut copied = 0;
    for (i, line) in lines.iter().enumerate() {
        for (at, spaces) in [
            (cells[i].assign, assign_spaces[i]),
            (cells[i].comment, comment_spaces[i]),
        ] {
            if let (Some(at), Some(spaces)) = (at, spaces) {
                text.push_str(&source[copied..line[at - 1].end]);
                text.extend(std::iter::repeat_n(' ', spaces));
                copied = line[at].start;
            }
        }
    }
    text.push_str(&source[copied..]);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remove(source: &str, what: &str) -> String {
        let start = source.find(what).unwrap();
        let range = Lexed::new(source)
            .removal(start..start + what.len())
            .unwrap();
        format!("{}{}", &source[..range.start], &source[range.end..])
    }

    #[test]
    fn an_item_goes_with_its_comments_and_one_blank_line() {
        let source = "a = 1\n\n# about b\n# more\nb = 2\n\nc = 3\n";
        assert_eq!(remove(source, "b = 2"), "a = 1\n\nc = 3\n");
        assert_eq!(remove("a = 1 # a's\nb = 2\n", "b = 2"), "a = 1 # a's\n");
        assert_eq!(remove("x { a = 1 }\n", "a = 1"), "x {}\n");
        assert_eq!(
            remove("a = 1\nb = \"#}\" # note\nc = 3\n", "b = \"#}\""),
            "a = 1\nc = 3\n"
        );
    }

    #[test]
    fn equals_and_comments_are_aligned_as_hclwrite_aligns_them() {
        let source = "locals {\n  a = 1\n  long_name = 2 # two\n  b = [1] # one\n\n  c   = 3\n}\n";
        assert_eq!(
            align(source),
            "locals {\n  a         = 1\n  long_name = 2   # two\n  b         = [1] # one\n\n  c = 3\n}\n"
        );
        let unchanged = "x = {\n  a = 1\n}\ny == 2\n";
        assert_eq!(align(unchanged), unchanged);
    }

    #[test]
    fn a_block_ends_at_its_own_closing_brace() {
        let source = "variable \"x\" {\n  default = { a = \"}\" }\n}\nrest {}\n";
        let range = Lexed::new(source).block_range(0, 12).unwrap();
        assert_eq!(
            &source[range],
            "variable \"x\" {\n  default = { a = \"}\" }\n}"
        );
    }
}
