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

/// A file of the module in HCL's native syntax (`.tf`): its name, text and syntax tree.
pub(super) struct NativeFile {
    pub(super) name: String,
    pub(super) source: String,
    pub(super) body: hcl_edit::structure::Body,
}

/// The module's `.tf` files (from `Runner.GetFiles`), parsed, by name. TFLint has loaded the
/// module, so they parse; one that does not is left out. JSON files (`.tf.json`) are not read.
pub(super) fn native_files(files: &std::collections::HashMap<String, Vec<u8>>) -> Vec<NativeFile> {
    let mut parsed: Vec<NativeFile> = files
        .iter()
        .filter(|(name, _)| name.ends_with(".tf"))
        .filter_map(|(name, bytes)| {
            let source = String::from_utf8_lossy(bytes).into_owned();
            let body = hcl_edit::parser::parse_body(&source).ok()?;
            Some(NativeFile {
                name: name.clone(),
                source,
                body,
            })
        })
        .collect();
    // Go's map order; the output is sorted.
    parsed.sort_by(|a, b| a.name.cmp(&b.name));
    parsed
}
