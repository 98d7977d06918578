//! The documentation holds together: every relative link in README.md,
//! docs/ and the other top-level documents leads to a file of the
//! repository (and to a heading of it, for `#anchor`s, by GitHub's rule for
//! heading ids), the README has its table of contents, and no document
//! points at the team's reference outside the repository.

use std::path::PathBuf;

use crate::support::root;

fn documents() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = [
        "README.md",
        "CHANGELOG.md",
        "CONTRIBUTING.md",
        "ARCHITECTURE.md",
        "BENCHMARKS.md",
        "examples/ci/README.md",
    ]
    .iter()
    .map(|p| root().join(p))
    .collect();
    let mut stack = vec![root().join("docs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The text outside fenced code blocks and code spans.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            let mut in_code = false;
            for c in line.chars() {
                if c == '`' {
                    in_code = !in_code;
                } else if !in_code {
                    out.push(c);
                }
            }
            out.push('\n');
        }
    }
    out
}

/// The targets of `[text](target)` links.
fn links(text: &str) -> Vec<String> {
    let prose = prose(text);
    prose
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|t| t.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

/// GitHub's id of a heading: lower case, punctuation but `-` and `_` gone,
/// spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.push(slug(line.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn every_relative_link_leads_to_a_file_and_heading_of_the_repository() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") || target.is_empty() {
                continue;
            }
            checked += 1;
            let (file, anchor) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let path: PathBuf = if file.is_empty() {
                doc.clone()
            } else {
                doc.parent().unwrap().join(file)
            };
            if !path.exists() {
                broken.push(format!("{}: `{target}`: no such file", doc.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                let target_text = std::fs::read_to_string(&path).unwrap_or_default();
                if !anchors(&target_text).iter().any(|a| a == anchor) {
                    broken.push(format!("{}: `{target}`: no such heading", doc.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    assert!(checked >= 30, "only {checked} links checked");
}

#[test]
fn the_readme_has_a_table_of_contents_of_its_sections_and_one_page_per_command() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let contents = readme
        .split("## Contents\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Contents section");
    let mut fenced = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with("## ") && line != "## Contents" {
            let heading = &line[3..];
            assert!(
                contents.contains(&format!("[{heading}](#{})", slug(heading))),
                "`{heading}` is not in the table of contents"
            );
        }
    }
    for command in ["validate", "plan", "apply", "export", "report", "sandbox"] {
        let page = root().join(format!("docs/commands/{command}.md"));
        let text = std::fs::read_to_string(&page).unwrap();
        assert!(
            text.contains(&format!("appform {command}")),
            "{}",
            page.display()
        );
        assert!(
            readme.contains(&format!("(docs/commands/{command}.md)")),
            "README links {command}.md"
        );
    }
}

#[test]
fn no_document_points_outside_the_repository() {
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        // The team's reference directory beside the repository, spelled in
        // parts so that this file does not name it either.
        let beside = ["..", "shared"].join("/");
        for needle in [beside.as_str(), "SPEC.md", "the SPEC"] {
            assert!(
                !text.contains(needle),
                "{} mentions `{needle}`",
                doc.display()
            );
        }
    }
}

/// Paths of the repository named in code spans (`docs/reference.md`,
/// `examples/ci/…`): each exists, so no document sends a reader to a file
/// the repository does not have.
#[test]
fn every_repository_path_a_document_names_exists() {
    const TOP: &[&str] = &[
        "docs/",
        "examples/",
        "tests/",
        "src/",
        "packaging/",
        "benches/",
        ".ci/",
        ".github/",
    ];
    let mut missing = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        for (i, span) in text.split('`').enumerate() {
            if i % 2 == 0 || !TOP.iter().any(|t| span.starts_with(t)) {
                continue;
            }
            // Globs, placeholders and command lines are not paths.
            if span.contains(|c: char| c.is_whitespace() || "*<>{}$…|".contains(c)) {
                continue;
            }
            let path = span.trim_end_matches(['.', ',', ':']);
            checked += 1;
            if !root().join(path).exists() {
                missing.push(format!("{}: `{span}`", doc.display()));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    assert!(checked >= 20, "only {checked} paths checked");
}
