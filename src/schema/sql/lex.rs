//! Stage 1: the `--schema` file into statements, and a statement into
//! tokens.
//!
//! Statements end at the current delimiter (`;` until a `DELIMITER` line
//! names another, as mysqldump writes around triggers and routines). Quotes
//! `'...'`, `"..."` and `` `...` `` hide delimiters; a quote is escaped by
//! doubling it, and by a backslash except inside back quotes. Comments are
//! `# ...`, `-- ...` (the dashes followed by a blank or the end) and
//! `/* ... */`. MySQL's executable comments `/*!50100 ... */` and MariaDB's
//! `/*M!100100 ... */` are opened: their text (after the version digits)
//! is code.

/// One statement: where it starts, its text as written, and its text with
/// comments removed and executable comments opened.
#[derive(Debug)]
pub(super) struct Stmt {
    pub(super) line: usize,
    pub(super) raw: String,
    pub(super) code: String,
}

pub(super) fn split_statements(sql: &str) -> Vec<Stmt> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut delim: Vec<u8> = b";".to_vec();
    let mut code: Vec<u8> = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut line = 1usize;
    let mut versioned = 0usize;
    // Whether the statement has anything but blanks yet.
    let mut nonblank = false;
    let mut i = 0usize;
    let flush = |code: &mut Vec<u8>, raw: &[u8], line: usize, out: &mut Vec<Stmt>| {
        let c = String::from_utf8_lossy(code).trim().to_string();
        if !c.is_empty() {
            out.push(Stmt {
                line,
                raw: String::from_utf8_lossy(raw).trim().to_string(),
                code: c,
            });
        }
        code.clear();
    };
    while i < b.len() {
        let c = b[i];
        // At the start of a statement: skip blanks, handle DELIMITER.
        if !nonblank {
            if c == b'\n' {
                line += 1;
            }
            if c.is_ascii_whitespace() {
                i += 1;
                start = i;
                start_line = line;
                code.clear();
                continue;
            }
            if b.len() >= i + 10
                && b[i..i + 9].eq_ignore_ascii_case(b"DELIMITER")
                && b[i + 9].is_ascii_whitespace()
            {
                let end = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map_or(b.len(), |p| i + p);
                let d = String::from_utf8_lossy(&b[i + 9..end])
                    .trim()
                    .as_bytes()
                    .to_vec();
                if !d.is_empty() {
                    delim = d;
                }
                i = end;
                start = i;
                continue;
            }
            start_line = line;
        }
        match c {
            b'\'' | b'"' | b'`' => {
                let q = c;
                code.push(c);
                nonblank = true;
                i += 1;
                while i < b.len() {
                    let x = b[i];
                    if x == b'\n' {
                        line += 1;
                    }
                    if x == b'\\' && q != b'`' && i + 1 < b.len() {
                        code.push(x);
                        code.push(b[i + 1]);
                        if b[i + 1] == b'\n' {
                            line += 1;
                        }
                        i += 2;
                        continue;
                    }
                    code.push(x);
                    i += 1;
                    if x == q {
                        if i < b.len() && b[i] == q {
                            code.push(q);
                            i += 1;
                            continue;
                        }
                        break;
                    }
                }
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-')
                && b.get(i + 2).is_none_or(|x| x.is_ascii_whitespace()) =>
            {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let exec = match (b.get(i + 2), b.get(i + 3)) {
                    (Some(b'!'), _) => Some(i + 3),
                    (Some(b'M'), Some(b'!')) => Some(i + 4),
                    _ => None,
                };
                if let Some(mut j) = exec {
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    versioned += 1;
                    code.push(b' ');
                    i = j;
                    continue;
                }
                let mut j = i + 2;
                while j + 1 < b.len() && !(b[j] == b'*' && b[j + 1] == b'/') {
                    if b[j] == b'\n' {
                        line += 1;
                    }
                    j += 1;
                }
                i = (j + 2).min(b.len());
                code.push(b' ');
                continue;
            }
            b'*' if versioned > 0 && b.get(i + 1) == Some(&b'/') => {
                versioned -= 1;
                code.push(b' ');
                i += 2;
                continue;
            }
            b'\n' => line += 1,
            _ => {}
        }
        if b[i..].starts_with(&delim) {
            flush(&mut code, &b[start..i], start_line, &mut out);
            nonblank = false;
            versioned = 0;
            i += delim.len();
            start = i;
            continue;
        }
        code.push(c);
        nonblank |= !c.is_ascii_whitespace();
        i += 1;
    }
    flush(&mut code, &b[start.min(b.len())..], start_line, &mut out);
    out
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// Unquoted word or number.
    Word(String),
    /// Back-quoted identifier.
    Ident(String),
    /// '...' or "..." literal, unescaped.
    Str(String),
    Punct(char),
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
}

impl Token {
    /// Upper-cased unquoted word, or "" for anything else.
    pub(super) fn keyword(&self) -> String {
        match &self.tok {
            Tok::Word(w) => w.to_ascii_uppercase(),
            _ => String::new(),
        }
    }
    pub(super) fn is_kw(&self, k: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(k))
    }
    pub(super) fn is_punct(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }
    /// The token as a name: a word, a quoted identifier or a string.
    pub(super) fn ident(&self) -> Option<String> {
        match &self.tok {
            Tok::Word(w) | Tok::Ident(w) | Tok::Str(w) => Some(w.clone()),
            Tok::Punct(_) => None,
        }
    }
}

pub(super) fn tokenize(s: &str) -> Vec<Token> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'\'' || c == b'"' || c == b'`' {
            let q = c;
            let mut v: Vec<u8> = Vec::new();
            i += 1;
            while i < b.len() {
                let x = b[i];
                if x == b'\\' && q != b'`' && i + 1 < b.len() {
                    v.push(match b[i + 1] {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'0' => 0,
                        b'Z' => 26,
                        o => o,
                    });
                    i += 2;
                    continue;
                }
                i += 1;
                if x == q {
                    if i < b.len() && b[i] == q {
                        v.push(q);
                        i += 1;
                        continue;
                    }
                    break;
                }
                v.push(x);
            }
            let v = String::from_utf8_lossy(&v).into_owned();
            out.push(Token {
                tok: if q == b'`' {
                    Tok::Ident(v)
                } else {
                    Tok::Str(v)
                },
                start,
                end: i,
            });
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Word(s[start..i].to_string()),
                start,
                end: i,
            });
            continue;
        }
        // `c` is ASCII here, so `i + 1` is a char boundary.
        i += 1;
        out.push(Token {
            tok: Tok::Punct(c as char),
            start,
            end: i,
        });
    }
    out
}

/// Index of the `)` matching the `(` at `open`.
pub(super) fn matching_paren(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if t.is_punct('(') {
            depth += 1;
        } else if t.is_punct(')') {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// Splits `toks` at top-level commas.
pub(super) fn split_commas(toks: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut from = 0;
    for (k, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => depth -= 1,
            Tok::Punct(',') if depth == 0 => {
                out.push(&toks[from..k]);
                from = k + 1;
            }
            _ => {}
        }
    }
    out.push(&toks[from..]);
    out.retain(|e| !e.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_comments() {
        let s = "-- c\n/*!40101 SET x=1 */;\nUSE `a;b`;\n# x\nCREATE TABLE t (a int /* ; */ , b varchar(3) DEFAULT ';') ;\nDELIMITER ;;\nCREATE TRIGGER x BEGIN SELECT 1; END ;;\nDELIMITER ;\nSELECT 2;";
        let st = split_statements(s);
        let codes: Vec<&str> = st.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes.len(), 5, "{codes:?}");
        assert_eq!(codes[1], "USE `a;b`");
        assert!(codes[2].starts_with("CREATE TABLE t (a int"));
        assert_eq!(st[2].line, 5);
        assert_eq!(codes[3], "CREATE TRIGGER x BEGIN SELECT 1; END");
    }
}
