@0xd1a3c8f2b4e61019;
const e :Data = embed "no-such-file.bin";
