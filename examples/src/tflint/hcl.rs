//! HCL expressions from TFLint's messages (their source bytes), evaluated as the bundled ruleset
//! decodes them: with no variables and no functions.

/// The value of `expression`, evaluated with no variables and no functions.
pub(super) fn evaluate(expression: &[u8]) -> Result<hcl::Value, String> {
    use hcl::eval::Evaluate as _;

    let text = std::str::from_utf8(expression).map_err(|err| err.to_string())?;
    // An attribute around it, so that the parser takes it (a heredoc needs its newline).
    let body: hcl::Body = hcl::parse(&format!("x = {text}\n")).map_err(|err| err.to_string())?;
    let attribute = body
        .attributes()
        .next()
        .ok_or_else(|| format!("{text}: not an expression"))?;
    attribute
        .expr()
        .evaluate(&hcl::eval::Context::new())
        .map_err(|err| err.to_string())
}

/// `expression` decoded as a string, as Go's `gohcl.DecodeExpression` into a `string` does:
/// numbers and bools convert, null and collections do not.
pub(super) fn string(expression: &[u8]) -> Result<String, String> {
    match evaluate(expression)? {
        hcl::Value::String(text) => Ok(text),
        hcl::Value::Number(number) => Ok(number.to_string()),
        hcl::Value::Bool(value) => Ok(value.to_string()),
        hcl::Value::Null => Err("Unsuitable value: null value is not allowed".to_owned()),
        _ => Err("Unsuitable value: string required".to_owned()),
    }
}
