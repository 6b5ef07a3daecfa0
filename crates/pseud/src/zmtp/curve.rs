//! TEMPORARY stub (replaced by the CURVE implementation being written on branch `curve`).
#![allow(dead_code, missing_docs)]
use crate::keys::{KeyPair, PublicKey};

#[derive(Debug, thiserror::Error)]
pub(crate) enum CurveError {
    #[error("CURVE is not built yet")]
    Unavailable,
}
pub(crate) struct CurveClient;
impl CurveClient {
    pub fn new(_server_public: &PublicKey, _ours: &KeyPair) -> Self {
        CurveClient
    }
    pub fn hello(&mut self) -> Vec<u8> {
        Vec::new()
    }
    pub fn on_welcome(&mut self, _w: &[u8], _m: &[(&str, &[u8])]) -> Result<Vec<u8>, CurveError> {
        Err(CurveError::Unavailable)
    }
    pub fn on_ready(self, _r: &[u8]) -> Result<(Vec<(String, Vec<u8>)>, CurveCodec), CurveError> {
        Err(CurveError::Unavailable)
    }
}
pub(crate) struct CurveServer;
impl CurveServer {
    pub fn new(_ours: &KeyPair) -> Self {
        CurveServer
    }
    pub fn on_hello(&mut self, _h: &[u8]) -> Result<Vec<u8>, CurveError> {
        Err(CurveError::Unavailable)
    }
    pub fn on_initiate(
        &mut self,
        _i: &[u8],
    ) -> Result<(PublicKey, Vec<(String, Vec<u8>)>), CurveError> {
        Err(CurveError::Unavailable)
    }
    pub fn ready(self, _m: &[(&str, &[u8])]) -> (Vec<u8>, CurveCodec) {
        (Vec::new(), CurveCodec)
    }
}
pub(crate) struct CurveCodec;
impl CurveCodec {
    pub fn encode(&mut self, _flags: u8, _body: &[u8], _out: &mut Vec<u8>) {}
    pub fn decode(&mut self, _m: &[u8]) -> Result<(u8, Vec<u8>), CurveError> {
        Err(CurveError::Unavailable)
    }
    pub fn split(self) -> (CurveCodec, CurveCodec) {
        (CurveCodec, CurveCodec)
    }
}
