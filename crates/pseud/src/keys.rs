//! TEMPORARY stub (replaced by the key types being written on branch `curve`).
#![allow(dead_code, missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PublicKey(pub [u8; 32]);
#[derive(Clone)]
pub struct SecretKey(pub [u8; 32]);
#[derive(Clone)]
pub struct KeyPair {
    pub public: PublicKey,
    pub secret: SecretKey,
}
impl PublicKey {
    pub fn to_z85(&self) -> String {
        String::new()
    }
}
impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_z85())
    }
}
