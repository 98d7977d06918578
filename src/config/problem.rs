//! Configuration problems as miette diagnostics: a stable code, the file, a label
//! on the span, and a one-line help. All problems of a run are reported together.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, MietteError, SourceCode, SourceSpan, SpanContents};

use super::source::Span;

/// File text shared by every problem in that file.
#[derive(Debug, Clone)]
pub struct SharedText {
    name: Arc<str>,
    text: Arc<str>,
}

impl SharedText {
    pub fn new(name: &str, text: Arc<str>) -> Self {
        SharedText {
            name: Arc::from(name),
            text,
        }
    }
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl SourceCode for SharedText {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner =
            self.text
                .as_bytes()
                .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// The stable code of every configuration problem (`appform::config::…`),
/// shown by the renderers and matched by the corpus's `# expect:` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// A server's problem found while planning (credentials, organizations).
    CannotPlan,
    NotUtf8,
    AppKey,
    Auth,
    BadDuration,
    BadGlob,
    BadReference,
    /// A `file:` secret, `ca_file` or config file outside the configuration root.
    OutsideRoot,
    BadUrl,
    DuplicateIdentity,
    DuplicateKey,
    DuplicatePolicy,
    DuplicateServer,
    DuplicateUrl,
    EmptyFile,
    InsecureHttp,
    InvalidType,
    InvalidValue,
    Io,
    LiteralSecret,
    MissingField,
    MissingRedirectUris,
    MissingUrl,
    NoFiles,
    NotFound,
    OutOfRange,
    RedirectUri,
    RenameUnsupported,
    ReservedName,
    Scope,
    ServerKind,
    ServerName,
    TooLarge,
    UnknownKey,
    UnresolvedCredential,
    UrlAndUrls,
    WhmDataName,
    Internal,
    YamlSyntax,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::CannotPlan => "appform::plan::cannot_plan",
            Code::NotUtf8 => "appform::config::not_utf8",
            Code::AppKey => "appform::config::app_key",
            Code::Auth => "appform::config::auth",
            Code::BadDuration => "appform::config::bad_duration",
            Code::BadGlob => "appform::config::bad_glob",
            Code::BadReference => "appform::config::bad_reference",
            Code::OutsideRoot => "appform::config::outside_root",
            Code::BadUrl => "appform::config::bad_url",
            Code::DuplicateIdentity => "appform::config::duplicate_identity",
            Code::DuplicateKey => "appform::config::duplicate_key",
            Code::DuplicatePolicy => "appform::config::duplicate_policy",
            Code::DuplicateServer => "appform::config::duplicate_server",
            Code::DuplicateUrl => "appform::config::duplicate_url",
            Code::EmptyFile => "appform::config::empty_file",
            Code::InsecureHttp => "appform::config::insecure_http",
            Code::InvalidType => "appform::config::invalid_type",
            Code::InvalidValue => "appform::config::invalid_value",
            Code::Io => "appform::config::io",
            Code::LiteralSecret => "appform::config::literal_secret",
            Code::MissingField => "appform::config::missing_field",
            Code::MissingRedirectUris => "appform::config::missing_redirect_uris",
            Code::MissingUrl => "appform::config::missing_url",
            Code::NoFiles => "appform::config::no_files",
            Code::NotFound => "appform::config::not_found",
            Code::OutOfRange => "appform::config::out_of_range",
            Code::RedirectUri => "appform::config::redirect_uri",
            Code::RenameUnsupported => "appform::config::rename_unsupported",
            Code::ReservedName => "appform::config::reserved_name",
            Code::Scope => "appform::config::scope",
            Code::ServerKind => "appform::config::server_kind",
            Code::ServerName => "appform::config::server_name",
            Code::TooLarge => "appform::config::too_large",
            Code::UnknownKey => "appform::config::unknown_key",
            Code::UnresolvedCredential => "appform::config::unresolved_credential",
            Code::UrlAndUrls => "appform::config::url_and_urls",
            Code::WhmDataName => "appform::config::whm_data_name",
            Code::Internal => "appform::internal",
            Code::YamlSyntax => "appform::yaml::syntax",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One problem with the configuration.
#[derive(Debug, Clone)]
pub struct Problem {
    pub code: Code,
    pub message: String,
    pub help: Option<String>,
    pub source: Option<SharedText>,
    /// The first label is the primary one.
    pub labels: Vec<(Span, String)>,
}

impl Problem {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
            help: None,
            source: None,
            labels: Vec::new(),
        }
    }
    pub fn at(mut self, source: &SharedText, span: Span, label: impl Into<String>) -> Self {
        self.source = Some(source.clone());
        self.labels.push((span, label.into()));
        self
    }
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.labels.push((span, label.into()));
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// `file:line:column` of the primary label (1-based), for tests and logs.
    pub fn location(&self) -> Option<(String, usize, usize)> {
        let src = self.source.as_ref()?;
        let (span, _) = self.labels.first()?;
        let before = src.text.get(..span.offset)?;
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        Some((src.name.to_string(), line, column))
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.source.is_none() || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(
            |(i, (span, label))| {
                let text = if label.is_empty() {
                    None
                } else {
                    Some(label.clone())
                };
                if i == 0 {
                    LabeledSpan::new_primary_with_span(text, *span)
                } else {
                    LabeledSpan::new_with_span(text, *span)
                }
            },
        )))
    }
}

/// Every problem found in one load, reported at once.
#[derive(Debug, Clone)]
pub struct ConfigErrors {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.len() {
            1 => f.write_str("the configuration has 1 problem"),
            n => write!(f, "the configuration has {n} problems"),
        }
    }
}

impl std::error::Error for ConfigErrors {}

impl Diagnostic for ConfigErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("appform::config"))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}
