//! For tests of certificate credentials (feature `testing`): a fresh self-signed RSA
//! certificate, as a registration would hold it.

/// A self-signed RSA certificate: its PEM, its private key's PEM (PKCS#8) and its DER (what an
/// app registration stores).
pub struct SelfSigned {
    pub certificate_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

/// A new 2048-bit RSA key and a certificate for `name` signed with it.
///
/// # Panics
/// If rcgen cannot generate a key, which only a broken build would do.
pub fn self_signed(name: &str) -> SelfSigned {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("an RSA key");
    let certificate = rcgen::CertificateParams::new(vec![name.to_owned()])
        .expect("certificate parameters")
        .self_signed(&pair)
        .expect("a self-signed certificate");
    SelfSigned {
        certificate_pem: certificate.pem(),
        key_pem: pair.serialize_pem(),
        der: certificate.der().to_vec(),
    }
}
