//! mon's dependency expressions (`depend`, `alertdepend`, `monitordepend`, `hostdepend`):
//! Perl boolean expressions over `group:service` tokens, parsed and evaluated safely.

/// A parsed dependency expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    text: String,
}

/// Why an expression cannot be evaluated (mon: a Perl eval error, status left unchanged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {col}: {message}")]
pub struct DependError {
    /// 1-based column in the expression text.
    pub col: u32,
    pub message: String,
}

impl Expr {
    /// Parse `text` (after `SELF:` substitution).
    pub fn parse(text: &str) -> Result<Expr, DependError> {
        Ok(Expr {
            text: text.to_string(),
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every `group:service` token, in order of appearance (duplicates kept once).
    pub fn refs(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Evaluate with `value(group, service)` giving each token's truth.
    pub fn eval(&self, _value: &mut dyn FnMut(&str, &str) -> bool) -> bool {
        false
    }
}
