//! age encryption of the `--secrets-out` file (`--secrets-recipient`):
//! X25519 recipients, ASCII-armoured output any `age` tool decrypts. Behind
//! the default-on cargo feature `age` (its crate brings about 100 crates
//! nothing else needs): built without it, the flags are hidden and refused
//! with that reason.

/// Whether this build can encrypt (the `age` feature).
pub const AVAILABLE: bool = cfg!(feature = "age");

/// Why encryption is not there in a build without the `age` feature.
pub const UNAVAILABLE: &str = "this appform was built without the `age` cargo feature, so it cannot encrypt the secrets file; build it with default features";

/// An age X25519 recipient (`age1…`).
#[cfg(feature = "age")]
pub type Recipient = age::x25519::Recipient;

/// Without the `age` feature there is no recipient to hold.
#[cfg(not(feature = "age"))]
#[derive(Clone, Debug)]
pub enum Recipient {}

/// Parses one `age1…` public key.
#[cfg(feature = "age")]
pub fn parse_recipient(key: &str) -> Result<Recipient, String> {
    key.parse::<Recipient>().map_err(|e| e.to_string())
}

#[cfg(not(feature = "age"))]
pub fn parse_recipient(_key: &str) -> Result<Recipient, String> {
    Err(UNAVAILABLE.into())
}

/// `plaintext` encrypted to every recipient, ASCII-armoured.
#[cfg(feature = "age")]
pub fn encrypt(recipients: &[Recipient], plaintext: &[u8]) -> Result<Vec<u8>, String> {
    use age::armor::{ArmoredWriter, Format};
    use std::io::Write as _;
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let armored =
        ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(|e| e.to_string())?;
    let mut writer = encryptor.wrap_output(armored).map_err(|e| e.to_string())?;
    writer.write_all(plaintext).map_err(|e| e.to_string())?;
    writer
        .finish()
        .and_then(ArmoredWriter::finish)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(not(feature = "age"))]
pub fn encrypt(recipients: &[Recipient], _plaintext: &[u8]) -> Result<Vec<u8>, String> {
    match recipients.first() {
        Some(never) => match *never {},
        None => Err("no age recipient".into()),
    }
}
